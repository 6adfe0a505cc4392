/* fuzz-markdown.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Whatever a model answers: the parser makes blocks whose markup GtkLabel
 * takes (well-formed, valid UTF-8, only the tags the parser writes, links
 * only to the web or to mail), nests no deeper than its cap, and gives the
 * same blocks for the same text. A prefix of the input is parsed too, as
 * while an answer streams in, where the bytes after it are not the end.
 */

#include "config.h"

#include <stdint.h>
#include <string.h>

#include "gaze-markdown.h"

int LLVMFuzzerTestOneInput (const uint8_t *data,
                            size_t         size);

static void
check_start_element (GMarkupParseContext  *context,
                     const char           *element,
                     const char          **names,
                     const char          **values,
                     gpointer              user_data,
                     GError              **error)
{
  if (strcmp (element, "span") == 0)
    {
      g_assert_cmpstr (names[0], ==, "background");
      g_assert_null (names[1]);
    }
  else if (strcmp (element, "a") == 0)
    {
      g_assert_cmpstr (names[0], ==, "href");
      g_assert_null (names[1]);
      g_assert_true (gaze_markdown_link_is_allowed (values[0]));
      g_assert_true (g_utf8_validate (values[0], -1, NULL));
    }
  else
    {
      g_assert_true (strcmp (element, "markup") == 0 || strcmp (element, "b") == 0 ||
                     strcmp (element, "i") == 0 || strcmp (element, "s") == 0 ||
                     strcmp (element, "tt") == 0);
      g_assert_null (names[0]);
    }
}

static void
check_markup (const char *markup)
{
  static const GMarkupParser parser = { check_start_element, NULL, NULL, NULL, NULL };
  g_autoptr(GMarkupParseContext) context = g_markup_parse_context_new (&parser, 0, NULL, NULL);
  g_autoptr(GError) error = NULL;

  g_assert_true (g_utf8_validate (markup, -1, NULL));

  g_markup_parse_context_parse (context, "<markup>", -1, &error);
  g_assert_no_error (error);
  g_markup_parse_context_parse (context, markup, -1, &error);
  g_assert_no_error (error);
  g_markup_parse_context_parse (context, "</markup>", -1, &error);
  g_assert_no_error (error);
  g_markup_parse_context_end_parse (context, &error);
  g_assert_no_error (error);
}

static void
check_block (const GazeMarkdownBlock *block,
             guint                    depth)
{
  GazeMarkdownBlockKind kind = gaze_markdown_block_get_kind (block);
  guint n = gaze_markdown_block_get_n_children (block);

  g_assert_cmpuint (depth, <=, GAZE_MARKDOWN_MAX_DEPTH);

  switch (kind)
    {
    case GAZE_MARKDOWN_BLOCK_PARAGRAPH:
    case GAZE_MARKDOWN_BLOCK_HEADING:
    case GAZE_MARKDOWN_BLOCK_TABLE_CELL:
      check_markup (gaze_markdown_block_get_markup (block));
      g_assert_cmpuint (n, ==, 0);
      if (kind == GAZE_MARKDOWN_BLOCK_HEADING)
        g_assert_cmpuint (gaze_markdown_block_get_level (block), >=, 1);
      g_assert_cmpuint (gaze_markdown_block_get_level (block), <=, 6);
      break;

    case GAZE_MARKDOWN_BLOCK_CODE:
      g_assert_true (g_utf8_validate (gaze_markdown_block_get_text (block), -1, NULL));
      g_assert_true (g_utf8_validate (gaze_markdown_block_get_language (block), -1, NULL));
      g_assert_cmpuint (n, ==, 0);
      break;

    case GAZE_MARKDOWN_BLOCK_RULE:
      g_assert_cmpuint (n, ==, 0);
      break;

    case GAZE_MARKDOWN_BLOCK_LIST:
    case GAZE_MARKDOWN_BLOCK_LIST_ITEM:
    case GAZE_MARKDOWN_BLOCK_QUOTE:
      depth++;
      break;

    case GAZE_MARKDOWN_BLOCK_DOCUMENT:
    case GAZE_MARKDOWN_BLOCK_TABLE:
    case GAZE_MARKDOWN_BLOCK_TABLE_ROW:
    default:
      break;
    }

  for (guint i = 0; i < n; i++)
    {
      const GazeMarkdownBlock *child = gaze_markdown_block_get_child (block, i);
      GazeMarkdownBlockKind child_kind = gaze_markdown_block_get_kind (child);

      g_assert_cmpint (child_kind, !=, GAZE_MARKDOWN_BLOCK_DOCUMENT);

      /* Lists hold items, tables rows and rows cells; nothing else does. */
      g_assert_cmpint (kind == GAZE_MARKDOWN_BLOCK_LIST, ==,
                       child_kind == GAZE_MARKDOWN_BLOCK_LIST_ITEM);
      g_assert_cmpint (kind == GAZE_MARKDOWN_BLOCK_TABLE, ==,
                       child_kind == GAZE_MARKDOWN_BLOCK_TABLE_ROW);
      g_assert_cmpint (kind == GAZE_MARKDOWN_BLOCK_TABLE_ROW, ==,
                       child_kind == GAZE_MARKDOWN_BLOCK_TABLE_CELL);

      if (kind == GAZE_MARKDOWN_BLOCK_LIST)
        {
          g_assert_cmpuint (gaze_markdown_block_get_depth (child), ==,
                            gaze_markdown_block_get_depth (block));
          g_assert_cmpint (gaze_markdown_block_get_ordered (child), ==,
                           gaze_markdown_block_get_ordered (block));
        }

      check_block (child, depth);
    }
}

static void
check_parse (const char *text,
             gsize       len)
{
  g_autoptr(GazeMarkdownDocument) document = gaze_markdown_parse (text, len);
  g_autoptr(GazeMarkdownDocument) again = gaze_markdown_parse (text, len);
  const GazeMarkdownBlock *root = gaze_markdown_document_get_root (document);

  g_assert_cmpint (gaze_markdown_block_get_kind (root), ==, GAZE_MARKDOWN_BLOCK_DOCUMENT);
  check_block (root, 0);

  g_assert_true (gaze_markdown_block_equal (root, gaze_markdown_document_get_root (again)));
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  check_parse ((const char *)data, size);

  if (size > 1)
    check_parse ((const char *)data, size / 2);

  return 0;
}
