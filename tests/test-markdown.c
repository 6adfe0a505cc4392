/* test-markdown.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Answers in Markdown, parsed into blocks: each construct gives the
 * expected blocks and markup; text from the model is always escaped, only
 * web and mail links become links; hostile input does not crash.
 */

#include "config.h"

#include <string.h>

#include "gaze-markdown.h"

#define CODE_OPEN  "<tt><span background=\"#8080802e\">"
#define CODE_CLOSE "</span></tt>"

/* An outline of a document, one block a line, two spaces a level. */
static void
append_outline (GString                 *out,
                const GazeMarkdownBlock *block,
                guint                    indent)
{
  static const char * const aligns[] = { "", " left", " center", " right" };
  static const char * const tasks[] = { "", " [ ]", " [x]" };
  GazeMarkdownBlockKind kind = gaze_markdown_block_get_kind (block);

  if (kind != GAZE_MARKDOWN_BLOCK_DOCUMENT)
    {
      for (guint i = 0; i < indent; i++)
        g_string_append (out, "  ");

      switch (kind)
        {
        case GAZE_MARKDOWN_BLOCK_PARAGRAPH:
          g_string_append_printf (out, "p: %s", gaze_markdown_block_get_markup (block));
          break;

        case GAZE_MARKDOWN_BLOCK_HEADING:
          g_string_append_printf (out, "h%u: %s",
                                  gaze_markdown_block_get_level (block),
                                  gaze_markdown_block_get_markup (block));
          break;

        case GAZE_MARKDOWN_BLOCK_QUOTE:
          g_string_append (out, "quote");
          break;

        case GAZE_MARKDOWN_BLOCK_LIST:
          if (gaze_markdown_block_get_ordered (block))
            g_string_append_printf (out, "ol start=%u", gaze_markdown_block_get_number (block));
          else
            g_string_append (out, "ul");
          g_string_append_printf (out, " depth=%u", gaze_markdown_block_get_depth (block));
          if (!gaze_markdown_block_get_tight (block))
            g_string_append (out, " loose");
          break;

        case GAZE_MARKDOWN_BLOCK_LIST_ITEM:
          g_string_append (out, "li");
          if (gaze_markdown_block_get_ordered (block))
            g_string_append_printf (out, " %u", gaze_markdown_block_get_number (block));
          g_string_append (out, tasks[gaze_markdown_block_get_task (block)]);
          break;

        case GAZE_MARKDOWN_BLOCK_CODE:
          {
            g_auto(GStrv) lines = g_strsplit (gaze_markdown_block_get_text (block), "\n", -1);
            g_autofree char *text = g_strjoinv ("\\n", lines);

            g_string_append_printf (out, "code(%s): %s",
                                    gaze_markdown_block_get_language (block), text);
          }
          break;

        case GAZE_MARKDOWN_BLOCK_TABLE:
          g_string_append (out, "table");
          break;

        case GAZE_MARKDOWN_BLOCK_TABLE_ROW:
          g_string_append (out, gaze_markdown_block_get_header (block) ? "tr head" : "tr");
          break;

        case GAZE_MARKDOWN_BLOCK_TABLE_CELL:
          g_string_append_printf (out, "%s%s: %s",
                                  gaze_markdown_block_get_header (block) ? "th" : "td",
                                  aligns[gaze_markdown_block_get_align (block)],
                                  gaze_markdown_block_get_markup (block));
          break;

        case GAZE_MARKDOWN_BLOCK_RULE:
          g_string_append (out, "hr");
          break;

        case GAZE_MARKDOWN_BLOCK_DOCUMENT:
        default:
          g_assert_not_reached ();
        }

      g_string_append_c (out, '\n');
      indent++;
    }

  for (guint i = 0; i < gaze_markdown_block_get_n_children (block); i++)
    append_outline (out, gaze_markdown_block_get_child (block, i), indent);
}

static char *
outline (GazeMarkdownDocument *document)
{
  GString *out = g_string_new (NULL);

  append_outline (out, gaze_markdown_document_get_root (document), 0);

  return g_string_free (out, FALSE);
}

/* The markup of a block must be what GtkLabel takes: well-formed, and with
 * only the elements and attributes that the parser writes.
 */
static void
check_start_element (GMarkupParseContext  *context,
                     const char           *element,
                     const char          **names,
                     const char          **values,
                     gpointer              user_data,
                     GError              **error)
{
  static const char * const plain[] = { "markup", "b", "i", "s", "tt" };

  for (guint i = 0; i < G_N_ELEMENTS (plain); i++)
    {
      if (strcmp (element, plain[i]) == 0)
        {
          g_assert_null (names[0]);
          return;
        }
    }

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
    }
  else
    {
      g_error ("unexpected element <%s> in markup", element);
    }
}

static guint
check_block (const GazeMarkdownBlock *block,
             guint                    depth)
{
  static const GMarkupParser parser = { check_start_element, NULL, NULL, NULL, NULL };
  const char *markup = gaze_markdown_block_get_markup (block);
  GazeMarkdownBlockKind kind = gaze_markdown_block_get_kind (block);
  guint max_depth = depth;

  if (markup != NULL)
    {
      g_autoptr(GMarkupParseContext) context = g_markup_parse_context_new (&parser, 0, NULL, NULL);
      g_autofree char *wrapped = g_strconcat ("<markup>", markup, "</markup>", NULL);
      g_autoptr(GError) error = NULL;

      g_assert_true (g_utf8_validate (markup, -1, NULL));
      g_markup_parse_context_parse (context, wrapped, -1, &error);
      g_assert_no_error (error);
      g_markup_parse_context_end_parse (context, &error);
      g_assert_no_error (error);
    }

  if (kind == GAZE_MARKDOWN_BLOCK_CODE)
    {
      g_assert_nonnull (gaze_markdown_block_get_language (block));
      g_assert_true (g_utf8_validate (gaze_markdown_block_get_text (block), -1, NULL));
    }

  if (kind == GAZE_MARKDOWN_BLOCK_QUOTE || kind == GAZE_MARKDOWN_BLOCK_LIST ||
      kind == GAZE_MARKDOWN_BLOCK_LIST_ITEM)
    depth++;

  for (guint i = 0; i < gaze_markdown_block_get_n_children (block); i++)
    {
      const GazeMarkdownBlock *child = gaze_markdown_block_get_child (block, i);
      guint child_depth;

      if (kind == GAZE_MARKDOWN_BLOCK_LIST)
        {
          g_assert_cmpint (gaze_markdown_block_get_kind (child), ==, GAZE_MARKDOWN_BLOCK_LIST_ITEM);
          g_assert_cmpuint (gaze_markdown_block_get_depth (child), ==,
                            gaze_markdown_block_get_depth (block));
        }

      child_depth = check_block (child, depth);
      max_depth = MAX (max_depth, child_depth);
    }

  return max_depth;
}

/* Checks every block of @document; returns how deeply its containers nest. */
static guint
check_document (GazeMarkdownDocument *document)
{
  guint depth = check_block (gaze_markdown_document_get_root (document), 0);

  g_assert_cmpuint (depth, <=, GAZE_MARKDOWN_MAX_DEPTH);

  return depth;
}

typedef struct
{
  const char *name;
  const char *markdown;
  const char *outline;
} MarkdownCase;

static const MarkdownCase markdown_cases[] = {
  { "empty", "", "" },
  { "blank", "  \n\n \t\n", "" },
  { "paragraph", "Hello, world.", "p: Hello, world.\n" },
  {
    "paragraphs", "One\n\nTwo",
    "p: One\n"
    "p: Two\n"
  },
  /* Answers are written for chat, where a newline is meant as one. */
  {
    "soft-break", "line one\nline two",
    "p: line one\nline two\n"
  },
  {
    "hard-break", "line one  \nline two",
    "p: line one\nline two\n"
  },
  {
    "headings", "# One\n## Two\n### Three\n#### Four\n##### Five\n###### Six\nSetext\n===",
    "h1: One\n"
    "h2: Two\n"
    "h3: Three\n"
    "h4: Four\n"
    "h5: Five\n"
    "h6: Six\n"
    "h1: Setext\n"
  },
  { "heading-empty", "#", "" },
  { "heading-inline", "## A *b* `c`", "h2: A <i>b</i> " CODE_OPEN "c" CODE_CLOSE "\n" },
  {
    "emphasis", "*em* _em_ **strong** __strong__ ***both*** ~~strike~~ ~one~",
    "p: <i>em</i> <i>em</i> <b>strong</b> <b>strong</b> <i><b>both</b></i> "
    "<s>strike</s> <s>one</s>\n"
  },
  { "intraword-underscore", "snake_case_name", "p: snake_case_name\n" },
  {
    "inline-code", "Run `ls -l <dir> && echo \"ok\"` now",
    "p: Run " CODE_OPEN "ls -l &lt;dir&gt; &amp;&amp; echo &quot;ok&quot;" CODE_CLOSE " now\n"
  },
  {
    "escaping", "a < b > c & \"d\" 'e' <b>bold?</b> &amp; \\*not em\\*",
    "p: a &lt; b &gt; c &amp; &quot;d&quot; &apos;e&apos; &lt;b&gt;bold?&lt;/b&gt; &amp; *not em*\n"
  },
  {
    "markup-injection", "</span><span foreground=\"red\">x</span>",
    "p: &lt;/span&gt;&lt;span foreground=&quot;red&quot;&gt;x&lt;/span&gt;\n"
  },
  {
    "html-block", "<script>alert(1)</script>\n\n<div>hi</div>",
    "p: &lt;script&gt;alert(1)&lt;/script&gt;\n"
    "p: &lt;div&gt;hi&lt;/div&gt;\n"
  },
  {
    "entities", "&copy; &rarr; &lt;b&gt; &#65; &#x1F600; &#0; &#x110000; &bogus; &amp;amp;",
    "p: © → &lt;b&gt; A 😀 \xef\xbf\xbd \xef\xbf\xbd &amp;bogus; &amp;amp;\n"
  },
  {
    "link", "[the site](https://example.org/a?b=1&c=2)",
    "p: <a href=\"https://example.org/a?b=1&amp;c=2\">the site</a>\n"
  },
  {
    "link-quotes", "[x](https://e.org/\"onmouseover=\"alert(1)) [y](https://e.org/&lt;script&gt;)",
    "p: <a href=\"https://e.org/&quot;onmouseover=&quot;alert(1)\">x</a> "
    "<a href=\"https://e.org/&lt;script&gt;\">y</a>\n"
  },
  {
    "link-apostrophe", "[x](<https://e.org/it's here>)",
    "p: <a href=\"https://e.org/it&apos;s here\">x</a>\n"
  },
  {
    "link-markup-text", "[**bold** & <i>](http://e.org)",
    "p: <a href=\"http://e.org\"><b>bold</b> &amp; &lt;i&gt;</a>\n"
  },
  {
    "link-schemes", "[m](mailto:a@b.org) [H](HTTPS://E.ORG) [w](http://w.org)",
    "p: <a href=\"mailto:a@b.org\">m</a> <a href=\"HTTPS://E.ORG\">H</a> "
    "<a href=\"http://w.org\">w</a>\n"
  },
  {
    "link-javascript",
    "[click](javascript:alert(1)) [c2](JavaScript:alert(1)) [c3](&#106;avascript:x)",
    "p: click c2 c3\n"
  },
  {
    "link-other-schemes",
    "[f](file:///etc/passwd) [d](data:text/html,x) [r](relative/page.html) "
    "[g](ftp://x.org) [s](sms:1)",
    "p: f d r g s\n"
  },
  {
    "link-reference", "[x][1]\n\n[1]: https://example.org/ref",
    "p: <a href=\"https://example.org/ref\">x</a>\n"
  },
  {
    "autolinks", "<https://a.org> www.b.org https://c.org/x?y=1&z=2 d@e.org <javascript:alert(1)>",
    "p: <a href=\"https://a.org\">https://a.org</a> <a href=\"http://www.b.org\">www.b.org</a> "
    "<a href=\"https://c.org/x?y=1&amp;z=2\">https://c.org/x?y=1&amp;z=2</a> "
    "<a href=\"mailto:d@e.org\">d@e.org</a> javascript:alert(1)\n"
  },
  { "image", "![a <red> cat](https://e.org/cat.png)", "p: a &lt;red&gt; cat\n" },
  { "image-empty", "![](https://e.org/cat.png)", "" },
  {
    "unordered-list", "- one\n- two\n* three",
    "ul depth=0\n"
    "  li\n"
    "    p: one\n"
    "  li\n"
    "    p: two\n"
    "ul depth=0\n"
    "  li\n"
    "    p: three\n"
  },
  {
    "ordered-list", "3. three\n4. four\n7. seven",
    "ol start=3 depth=0\n"
    "  li 3\n"
    "    p: three\n"
    "  li 4\n"
    "    p: four\n"
    "  li 5\n"
    "    p: seven\n"
  },
  {
    "nested-lists", "1. a\n   - b\n     1. c\n        - d\n2. e",
    "ol start=1 depth=0\n"
    "  li 1\n"
    "    p: a\n"
    "    ul depth=1\n"
    "      li\n"
    "        p: b\n"
    "        ol start=1 depth=2\n"
    "          li 1\n"
    "            p: c\n"
    "            ul depth=3\n"
    "              li\n"
    "                p: d\n"
    "  li 2\n"
    "    p: e\n"
  },
  {
    "loose-list", "- one\n\n  more\n- two",
    "ul depth=0 loose\n"
    "  li\n"
    "    p: one\n"
    "    p: more\n"
    "  li\n"
    "    p: two\n"
  },
  {
    "loose-items", "1. one\n\n2. two\n   - tight\n   - nested",
    "ol start=1 depth=0 loose\n"
    "  li 1\n"
    "    p: one\n"
    "  li 2\n"
    "    p: two\n"
    "    ul depth=1\n"
    "      li\n"
    "        p: tight\n"
    "      li\n"
    "        p: nested\n"
  },
  {
    "task-list", "- [x] done\n- [ ] open\n- [X] Done\n- plain",
    "ul depth=0\n"
    "  li [x]\n"
    "    p: done\n"
    "  li [ ]\n"
    "    p: open\n"
    "  li [x]\n"
    "    p: Done\n"
    "  li\n"
    "    p: plain\n"
  },
  {
    "list-with-code", "1. Run:\n\n   ```sh\n   make\n   ```",
    "ol start=1 depth=0 loose\n"
    "  li 1\n"
    "    p: Run:\n"
    "    code(sh): make\n"
  },
  {
    "quote", "> a *quote*\n> > nested\n\n> - item",
    "quote\n"
    "  p: a <i>quote</i>\n"
    "  quote\n"
    "    p: nested\n"
    "quote\n"
    "  ul depth=0\n"
    "    li\n"
    "      p: item\n"
  },
  {
    "code-block", "```c\nint a = 1 < 2 && b;\n/* <b>&amp; */\n```",
    "code(c): int a = 1 < 2 && b;\\n/* <b>&amp; */\n"
  },
  {
    "code-block-info", "~~~ python title=\"x\"\nprint()\n~~~",
    "code(python): print()\n"
  },
  { "code-block-empty", "```\n```", "code(): \n" },
  { "code-block-blank-lines", "```\na\n\n\nb\n\n```", "code(): a\\n\\n\\nb\\n\n" },
  { "code-block-indented", "    indented\n      more", "code(): indented\\n  more\n" },
  /* While an answer streams, an open fence runs to the end. */
  { "code-block-unclosed", "```js\nlet a = 1;\nlet b", "code(js): let a = 1;\\nlet b\n" },
  {
    "table", "| L | C | R | N |\n|:--|:-:|--:|---|\n| *a* | b & c | `d` | <e> |\n| 1 |",
    "table\n"
    "  tr head\n"
    "    th left: L\n"
    "    th center: C\n"
    "    th right: R\n"
    "    th: N\n"
    "  tr\n"
    "    td left: <i>a</i>\n"
    "    td center: b &amp; c\n"
    "    td right: " CODE_OPEN "d" CODE_CLOSE "\n"
    "    td: &lt;e&gt;\n"
    "  tr\n"
    "    td left: 1\n"
    "    td center: \n"
    "    td right: \n"
    "    td: \n"
  },
  {
    "table-link", "| a |\n|---|\n| [x](https://x.org) [y](javascript:y) |",
    "table\n"
    "  tr head\n"
    "    th: a\n"
    "  tr\n"
    "    td: <a href=\"https://x.org\">x</a> y\n"
  },
  {
    "table-without-delimiter", "| a | b |\n| c | d |",
    "p: | a | b |\n| c | d |\n"
  },
  {
    "rules", "a\n\n---\n***\n___\n\nb",
    "p: a\n"
    "hr\n"
    "hr\n"
    "hr\n"
    "p: b\n"
  },
  {
    "everything",
    "## Result\n\nThe **cat** is *grey*.\n\n- [x] seen\n\n> note\n\n"
    "```\ncode\n```\n\n| a |\n|---|\n| b |\n\n---",
    "h2: Result\n"
    "p: The <b>cat</b> is <i>grey</i>.\n"
    "ul depth=0\n"
    "  li [x]\n"
    "    p: seen\n"
    "quote\n"
    "  p: note\n"
    "code(): code\n"
    "table\n"
    "  tr head\n"
    "    th: a\n"
    "  tr\n"
    "    td: b\n"
    "hr\n"
  },
  {
    "invalid-utf8", "caf\xc3 \xff\xfe ok \xe2\x82",
    "p: caf\xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd ok \xef\xbf\xbd\xef\xbf\xbd\n"
  },
  {
    "control-characters", "a\x01" "b\x7f" "c\x1b[31md",
    "p: a\xef\xbf\xbd" "b\xef\xbf\xbd" "c\xef\xbf\xbd[31md\n"
  },
  { "crlf", "a\r\nb\r\n\r\n- c", "p: a\nb\nul depth=0\n  li\n    p: c\n" },
};

static void
test_markdown_case (gconstpointer data)
{
  const MarkdownCase *c = data;
  g_autoptr(GazeMarkdownDocument) document = NULL;
  g_autofree char *text = NULL;

  document = gaze_markdown_parse (c->markdown, strlen (c->markdown));
  text = outline (document);

  g_assert_cmpstr (text, ==, c->outline);
  check_document (document);
}

static void
test_markdown_nul (void)
{
  static const char text[] = "a\0b\n\n```\nc\0d\n```";
  g_autoptr(GazeMarkdownDocument) document = NULL;
  g_autofree char *result = NULL;

  document = gaze_markdown_parse (text, sizeof text - 1);
  result = outline (document);

  g_assert_cmpstr (result, ==,
                   "p: a\xef\xbf\xbd" "b\n"
                   "code(): c\xef\xbf\xbd" "d\n");
}

static void
test_markdown_accessors (void)
{
  const char *text = "# Title\n\n1. [x] a\n\n```py\nx\n```";
  g_autoptr(GazeMarkdownDocument) document = gaze_markdown_parse (text, strlen (text));
  const GazeMarkdownBlock *heading, *list, *item, *code;

  g_assert_cmpuint (gaze_markdown_document_get_n_blocks (document), ==, 3);

  heading = gaze_markdown_document_get_block (document, 0);
  g_assert_cmpint (gaze_markdown_block_get_kind (heading), ==, GAZE_MARKDOWN_BLOCK_HEADING);
  g_assert_cmpuint (gaze_markdown_block_get_level (heading), ==, 1);
  g_assert_cmpstr (gaze_markdown_block_get_markup (heading), ==, "Title");
  g_assert_null (gaze_markdown_block_get_text (heading));
  g_assert_cmpuint (gaze_markdown_block_get_n_children (heading), ==, 0);

  list = gaze_markdown_document_get_block (document, 1);
  g_assert_true (gaze_markdown_block_get_ordered (list));
  item = gaze_markdown_block_get_child (list, 0);
  g_assert_cmpint (gaze_markdown_block_get_kind (item), ==, GAZE_MARKDOWN_BLOCK_LIST_ITEM);
  g_assert_cmpint (gaze_markdown_block_get_task (item), ==, GAZE_MARKDOWN_TASK_DONE);
  g_assert_cmpuint (gaze_markdown_block_get_number (item), ==, 1);
  g_assert_null (gaze_markdown_block_get_markup (item));

  code = gaze_markdown_document_get_block (document, 2);
  g_assert_cmpstr (gaze_markdown_block_get_language (code), ==, "py");
  g_assert_cmpstr (gaze_markdown_block_get_text (code), ==, "x");

  /* The document is a boxed type, for properties and signals. */
  g_assert_true (G_TYPE_IS_BOXED (GAZE_TYPE_MARKDOWN_DOCUMENT));
  gaze_markdown_document_unref (gaze_markdown_document_ref (document));

  g_assert_true (gaze_markdown_link_is_allowed ("https://x.org"));
  g_assert_true (gaze_markdown_link_is_allowed ("Mailto:a@b.org"));
  g_assert_false (gaze_markdown_link_is_allowed ("javascript:alert(1)"));
  g_assert_false (gaze_markdown_link_is_allowed (" https://x.org"));
  g_assert_false (gaze_markdown_link_is_allowed ("https:x.org"));
  g_assert_false (gaze_markdown_link_is_allowed (""));
}

static void
test_markdown_equal (void)
{
  const char *a = "# T\n\n- one\n- two\n\n| x |\n|---|\n| y |";
  const char *b = "# T\n\n- one\n- two!\n\n| x |\n|---|\n| y |";
  g_autoptr(GazeMarkdownDocument) da = gaze_markdown_parse (a, strlen (a));
  g_autoptr(GazeMarkdownDocument) da2 = gaze_markdown_parse (a, strlen (a));
  g_autoptr(GazeMarkdownDocument) db = gaze_markdown_parse (b, strlen (b));

  g_assert_true (gaze_markdown_block_equal (gaze_markdown_document_get_root (da),
                                            gaze_markdown_document_get_root (da2)));
  g_assert_false (gaze_markdown_block_equal (gaze_markdown_document_get_root (da),
                                             gaze_markdown_document_get_root (db)));
  g_assert_true (gaze_markdown_block_equal (gaze_markdown_document_get_block (da, 0),
                                            gaze_markdown_document_get_block (db, 0)));
  g_assert_false (gaze_markdown_block_equal (gaze_markdown_document_get_block (da, 1),
                                             gaze_markdown_document_get_block (db, 1)));
  g_assert_true (gaze_markdown_block_equal (gaze_markdown_document_get_block (da, 2),
                                            gaze_markdown_document_get_block (db, 2)));
  g_assert_false (gaze_markdown_block_equal (gaze_markdown_document_get_block (da, 0), NULL));
  g_assert_true (gaze_markdown_block_equal (NULL, NULL));
}

/* Quotes, lists and both mixed, far deeper than the cap: the text stays,
 * the nesting stops at the cap.
 */
static void
test_markdown_deep_blocks (void)
{
  const guint levels = 5000;
  g_autoptr(GString) quotes = g_string_new (NULL);
  g_autoptr(GString) lists = g_string_new (NULL);
  g_autoptr(GString) mixed = g_string_new (NULL);
  GString *texts[] = { quotes, lists, mixed };

  for (guint i = 0; i < levels; i++)
    g_string_append_c (quotes, '>');
  g_string_append (quotes, " deep");

  for (guint i = 0; i < 200; i++)
    {
      for (guint j = 0; j < i; j++)
        g_string_append (lists, "  ");
      g_string_append_printf (lists, "- item %u\n", i);
    }

  for (guint i = 0; i < levels; i++)
    g_string_append (mixed, i % 2 ? "> " : "- ");
  g_string_append (mixed, "deep");

  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    {
      g_autoptr(GazeMarkdownDocument) document = gaze_markdown_parse (texts[i]->str, texts[i]->len);
      g_autofree char *text = outline (document);
      guint depth = check_document (document);

      g_assert_cmpuint (depth, >=, GAZE_MARKDOWN_MAX_DEPTH - 1);
      g_assert_nonnull (strstr (text, i == 1 ? "item 199" : "deep"));
    }
}

static void
test_markdown_deep_spans (void)
{
  const guint levels = 20000;
  g_autoptr(GString) text = g_string_new (NULL);
  g_autoptr(GString) links = g_string_new (NULL);
  g_autoptr(GazeMarkdownDocument) document = NULL;
  g_autoptr(GazeMarkdownDocument) link_document = NULL;

  for (guint i = 0; i < levels; i++)
    g_string_append (text, i % 3 == 0 ? "*" : i % 3 == 1 ? "**" : "~~");
  g_string_append (text, "x");
  for (guint i = levels; i > 0; i--)
    g_string_append (text, (i - 1) % 3 == 0 ? "*" : (i - 1) % 3 == 1 ? "**" : "~~");

  document = gaze_markdown_parse (text->str, text->len);
  check_document (document);

  /* Links in links. md4c takes time in the square of their depth, so
   * fewer of them.
   */
  for (guint i = 0; i < levels / 10; i++)
    g_string_append (links, "[https://a.org ");
  g_string_append (links, "x");
  for (guint i = 0; i < levels / 10; i++)
    g_string_append (links, "](https://b.org)");

  link_document = gaze_markdown_parse (links->str, links->len);
  check_document (link_document);
}

static void
test_markdown_huge (void)
{
  gsize len = GAZE_MARKDOWN_MAX_LENGTH + 1024 * 1024;
  g_autofree char *text = g_malloc (len);
  g_autoptr(GazeMarkdownDocument) document = NULL;
  const GazeMarkdownBlock *paragraph;

  /* One enormous paragraph of "a <b " that must all be escaped. */
  for (gsize i = 0; i < len; i++)
    text[i] = "a <b "[i % 5];

  document = gaze_markdown_parse (text, len);
  g_assert_cmpuint (gaze_markdown_document_get_n_blocks (document), ==, 1);
  paragraph = gaze_markdown_document_get_block (document, 0);
  g_assert_true (g_str_has_prefix (gaze_markdown_block_get_markup (paragraph), "a &lt;b a &lt;b"));
  /* Text past the cap is left out. */
  g_assert_cmpuint (strlen (gaze_markdown_block_get_markup (paragraph)), <,
                    GAZE_MARKDOWN_MAX_LENGTH * 2);
}

/* The answer as it streams in: every prefix parses into valid markup, and
 * blocks before the last one that changed stay equal from prefix to prefix.
 */
static void
test_markdown_streaming (void)
{
  const char *answer =
    "## Result\n\nThe **cat** is *grey* and `sleeping` on [a mat](https://e.org/mat).\n\n"
    "1. Ears\n   - left\n   - right\n2. Tail\n\n- [x] counted\n\n> A quote\n> that goes on\n\n"
    "```python\nprint(\"<cat>\")\n```\n\n"
    "| a | b |\n|:--|--:|\n| 1 | 2 |\n| 3 | 4 |\n\n---\n\nDone.";
  gsize len = strlen (answer);
  g_autoptr(GazeMarkdownDocument) previous = NULL;

  for (gsize i = 0; i <= len; i++)
    {
      g_autoptr(GazeMarkdownDocument) document = gaze_markdown_parse (answer, i);

      check_document (document);

      if (previous != NULL)
        {
          guint n_old = gaze_markdown_document_get_n_blocks (previous);
          guint n_new = gaze_markdown_document_get_n_blocks (document);

          /* Text that only grows changes at most its last two blocks
           * (a line can turn a paragraph into a heading or a table).
           */
          for (guint j = 0; j + 2 < MIN (n_old, n_new); j++)
            {
              const GazeMarkdownBlock *before = gaze_markdown_document_get_block (previous, j);
              const GazeMarkdownBlock *after = gaze_markdown_document_get_block (document, j);

              g_assert_true (gaze_markdown_block_equal (before, after));
            }
        }

      g_clear_pointer (&previous, gaze_markdown_document_unref);
      previous = g_steal_pointer (&document);
    }

  g_assert_cmpuint (gaze_markdown_document_get_n_blocks (previous), ==, 9);
}

/* An answer of about @size bytes, with every construct. */
static GString *
create_answer (gsize size)
{
  static const char *chunk =
    "## A heading with `code`\n\n"
    "A paragraph with **bold**, *italic*, ~~strike~~ and a [link](https://example.org/?a=1&b=2) "
    "that goes on long enough to wrap a couple of times in the window <like so> & more.\n\n"
    "1. First\n   - nested *one*\n   - nested two\n2. Second\n\n"
    "> A quote, as models like to write.\n\n"
    "```c\nint\nmain (void)\n{\n  return 1 < 2;\n}\n```\n\n"
    "| Name | Value |\n|:-----|------:|\n| a | 1 |\n| b | 2 |\n\n";
  GString *answer = g_string_sized_new (size + strlen (chunk));

  while (answer->len < size)
    g_string_append (answer, chunk);
  g_string_truncate (answer, size);

  return answer;
}

static void
test_markdown_perf (void)
{
  static const gsize sizes[] = { 1024, 10 * 1024, 100 * 1024 };
  g_autoptr(GString) stream = create_answer (100 * 1024);
  const guint n_deltas = 10000;
  double elapsed;

  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      g_autoptr(GString) answer = create_answer (sizes[i]);
      guint rounds = 100 * 1024 / sizes[i] * 10;
      double per_parse;

      g_test_timer_start ();
      for (guint j = 0; j < rounds; j++)
        gaze_markdown_document_unref (gaze_markdown_parse (answer->str, answer->len));
      elapsed = g_test_timer_elapsed ();

      per_parse = elapsed / rounds * 1000.0;
      g_test_minimized_result (per_parse, "parse %" G_GSIZE_FORMAT " KB: %.3f ms",
                               sizes[i] / 1024, per_parse);
    }

  /* 100 KB streamed in 10 000 deltas, the whole text parsed after each. */
  g_test_timer_start ();
  for (guint i = 1; i <= n_deltas; i++)
    gaze_markdown_document_unref (gaze_markdown_parse (stream->str, stream->len * i / n_deltas));
  elapsed = g_test_timer_elapsed ();

  g_test_minimized_result (elapsed,
                           "100 KB in %u deltas, parsed after each: %.2f s, %.3f ms a parse",
                           n_deltas, elapsed, elapsed / n_deltas * 1000.0);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (markdown_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/markdown/parse/%s", markdown_cases[i].name);

      g_test_add_data_func (path, &markdown_cases[i], test_markdown_case);
    }

  g_test_add_func ("/markdown/nul", test_markdown_nul);
  g_test_add_func ("/markdown/accessors", test_markdown_accessors);
  g_test_add_func ("/markdown/equal", test_markdown_equal);
  g_test_add_func ("/markdown/deep-blocks", test_markdown_deep_blocks);
  g_test_add_func ("/markdown/deep-spans", test_markdown_deep_spans);
  g_test_add_func ("/markdown/huge", test_markdown_huge);
  g_test_add_func ("/markdown/streaming", test_markdown_streaming);

  if (g_test_perf ())
    g_test_add_func ("/markdown/perf", test_markdown_perf);

  return g_test_run ();
}
