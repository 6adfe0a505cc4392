/* gaze-markdown.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "gaze-markdown"

#include "config.h"

#include <string.h>
#include <glib/gi18n.h>
#include <md4c.h>

#include "gaze-markdown.h"

/* An answer is parsed with md4c into a small tree of blocks. Text blocks
 * carry Pango markup for their inline content that is built here, from
 * escaped text and a handful of tags, so that nothing the model writes is
 * ever taken as markup.
 */

/* GitHub's dialect without raw HTML: HTML in an answer is shown as text. */
#define PARSER_FLAGS (MD_FLAG_TABLES | MD_FLAG_STRIKETHROUGH | MD_FLAG_TASKLISTS | \
                      MD_FLAG_PERMISSIVEAUTOLINKS | MD_FLAG_NOHTML)

/* A neutral grey at low opacity tints inline code on light and dark styles alike. */
#define CODE_SPAN_OPEN  "<tt><span background=\"#8080802e\">"
#define CODE_SPAN_CLOSE "</span></tt>"

#define REPLACEMENT_CHARACTER "\xef\xbf\xbd"

/* Compared by address, to know which closed span was a link. */
static const char link_close[] = "</a>";

struct _GazeMarkdownBlock
{
  GazeMarkdownBlockKind kind;
  GazeMarkdownTask      task;
  GazeMarkdownAlign     align;
  guint                 level;
  guint                 depth;
  guint                 number;
  gboolean              ordered;
  gboolean              tight;
  gboolean              header;
  char                 *markup;
  char                 *text;
  char                 *language;
  GPtrArray            *children;
};

struct _GazeMarkdownDocument
{
  gatomicrefcount    ref_count;
  GazeMarkdownBlock *root;
};

G_DEFINE_BOXED_TYPE (GazeMarkdownDocument, gaze_markdown_document,
                     gaze_markdown_document_ref, gaze_markdown_document_unref)

typedef struct
{
  /* One entry for each md4c block we are in: the block made for it, or NULL. */
  GPtrArray         *entered;

  /* The blocks that take other blocks (the document, quotes, lists and
   * their items), innermost last.
   */
  GPtrArray         *containers;

  GazeMarkdownBlock *table;
  GazeMarkdownBlock *row;
  gboolean           in_table_head;

  /* The paragraph, heading, cell or code block being filled, the block it
   * was added to, and its markup or code so far.
   */
  GazeMarkdownBlock *leaf;
  GazeMarkdownBlock *leaf_parent;
  GString           *buffer;

  guint              list_depth;
  guint              link_depth;
  guint              span_depth;
  const char        *span_close[GAZE_MARKDOWN_MAX_SPAN_DEPTH];
} ParseState;

typedef struct
{
  const char *name;
  const char *utf8;
} NamedEntity;

/* The named entities that answers use. Others are shown as written. */
static const NamedEntity named_entities[] = {
  { "amp", "&" }, { "lt", "<" }, { "gt", ">" }, { "quot", "\"" }, { "apos", "'" },
  { "nbsp", "\xc2\xa0" }, { "ensp", "\xe2\x80\x82" }, { "emsp", "\xe2\x80\x83" },
  { "thinsp", "\xe2\x80\x89" }, { "shy", "\xc2\xad" },
  { "copy", "©" }, { "reg", "®" }, { "trade", "™" }, { "hellip", "…" },
  { "mdash", "—" }, { "ndash", "–" }, { "minus", "−" },
  { "lsquo", "‘" }, { "rsquo", "’" }, { "ldquo", "“" }, { "rdquo", "”" },
  { "laquo", "«" }, { "raquo", "»" }, { "middot", "·" }, { "bull", "•" },
  { "deg", "°" }, { "plusmn", "±" }, { "times", "×" }, { "divide", "÷" },
  { "micro", "µ" }, { "para", "¶" }, { "sect", "§" },
  { "euro", "€" }, { "pound", "£" }, { "yen", "¥" }, { "cent", "¢" },
  { "larr", "←" }, { "rarr", "→" }, { "uarr", "↑" }, { "darr", "↓" }, { "harr", "↔" },
  { "le", "≤" }, { "ge", "≥" }, { "ne", "≠" }, { "asymp", "≈" }, { "infin", "∞" },
  { "frac12", "½" }, { "frac14", "¼" }, { "frac34", "¾" }, { "sup2", "²" }, { "sup3", "³" },
};

static gboolean
is_control (gunichar c)
{
  return (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f;
}

static GazeMarkdownBlock *
block_new (GazeMarkdownBlockKind kind)
{
  GazeMarkdownBlock *block = g_new0 (GazeMarkdownBlock, 1);

  block->kind = kind;

  return block;
}

static void
block_free (gpointer data)
{
  GazeMarkdownBlock *block = data;

  g_clear_pointer (&block->children, g_ptr_array_unref);
  g_free (block->markup);
  g_free (block->text);
  g_free (block->language);
  g_free (block);
}

static void
block_append (GazeMarkdownBlock *parent,
              GazeMarkdownBlock *child)
{
  if (parent->children == NULL)
    parent->children = g_ptr_array_new_with_free_func (block_free);

  g_ptr_array_add (parent->children, child);
}

static guint
block_n_children (const GazeMarkdownBlock *block)
{
  return block->children != NULL ? block->children->len : 0;
}

/* Appends @len bytes of @text to @markup as text, never as markup. */
static void
append_escaped (GString    *markup,
                const char *text,
                gsize       len)
{
  g_autofree char *escaped = NULL;

  if (len == 0)
    return;

  escaped = g_markup_escape_text (text, len);
  g_string_append (markup, escaped);
}

/* Appends the character that the entity @text stands for, or returns FALSE
 * when it is not one Gaze knows.
 */
static gboolean
append_entity (GString    *out,
               const char *text,
               gsize       len)
{
  if (len < 3 || text[0] != '&' || text[len - 1] != ';')
    return FALSE;

  if (text[1] == '#')
    {
      gboolean hex = len > 3 && (text[2] == 'x' || text[2] == 'X');
      gsize i = hex ? 3 : 2;
      gunichar c = 0;

      if (i >= len - 1)
        return FALSE;

      for (; i < len - 1; i++)
        {
          int digit = hex ? g_ascii_xdigit_value (text[i]) : g_ascii_digit_value (text[i]);

          if (digit < 0)
            return FALSE;

          /* Saturate: anything past the last code point is replaced below. */
          if (c <= 0x10FFFF)
            c = c * (hex ? 16 : 10) + digit;
        }

      if (c == 0 || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF) || is_control (c))
        c = 0xFFFD;

      g_string_append_unichar (out, c);
      return TRUE;
    }

  for (guint i = 0; i < G_N_ELEMENTS (named_entities); i++)
    {
      const char *name = named_entities[i].name;

      if (strlen (name) == len - 2 && memcmp (name, text + 1, len - 2) == 0)
        {
          g_string_append (out, named_entities[i].utf8);
          return TRUE;
        }
    }

  return FALSE;
}

static void
append_entity_escaped (GString    *markup,
                       const char *text,
                       gsize       len)
{
  g_autoptr(GString) decoded = g_string_sized_new (8);

  if (append_entity (decoded, text, len))
    append_escaped (markup, decoded->str, decoded->len);
  else
    append_escaped (markup, text, len);
}

/* The text of an md4c attribute (a link's address, a code block's
 * language), with its entities decoded.
 */
static char *
attribute_to_string (const MD_ATTRIBUTE *attr)
{
  GString *out;

  if (attr == NULL || attr->text == NULL || attr->size == 0)
    return g_strdup ("");

  out = g_string_sized_new (attr->size);

  for (guint i = 0; attr->substr_offsets[i] < attr->size; i++)
    {
      MD_OFFSET start = attr->substr_offsets[i];
      MD_OFFSET end = MIN (attr->substr_offsets[i + 1], attr->size);
      const char *text = attr->text + start;
      gsize len = end - start;

      switch (attr->substr_types[i])
        {
        case MD_TEXT_ENTITY:
          if (!append_entity (out, text, len))
            g_string_append_len (out, text, len);
          break;

        case MD_TEXT_NULLCHAR:
          g_string_append (out, REPLACEMENT_CHARACTER);
          break;

        case MD_TEXT_NORMAL:
        case MD_TEXT_BR:
        case MD_TEXT_SOFTBR:
        case MD_TEXT_CODE:
        case MD_TEXT_HTML:
        case MD_TEXT_LATEXMATH:
        default:
          g_string_append_len (out, text, len);
          break;
        }
    }

  return g_string_free (out, FALSE);
}

/**
 * gaze_markdown_link_is_allowed:
 * @uri: a link's address
 *
 * Only web and mail links open; anything else (javascript:, file:, data:,
 * custom schemes) would let an answer run or open things on this computer.
 *
 * Returns: whether @uri may become a link
 */
gboolean
gaze_markdown_link_is_allowed (const char *uri)
{
  g_return_val_if_fail (uri != NULL, FALSE);

  return g_ascii_strncasecmp (uri, "https://", 8) == 0 ||
         g_ascii_strncasecmp (uri, "http://", 7) == 0 ||
         g_ascii_strncasecmp (uri, "mailto:", 7) == 0;
}

static GazeMarkdownBlock *
state_container (ParseState *state)
{
  return g_ptr_array_index (state->containers, state->containers->len - 1);
}

/* The nesting depth of the innermost container: 0 in the document. */
static guint
state_depth (ParseState *state)
{
  return state->containers->len - 1;
}

static void
state_begin_leaf (ParseState        *state,
                  GazeMarkdownBlock *parent,
                  GazeMarkdownBlock *leaf)
{
  g_assert (state->leaf == NULL);

  block_append (parent, leaf);
  state->leaf = leaf;
  state->leaf_parent = parent;
  state->span_depth = 0;
  state->link_depth = 0;
  g_string_truncate (state->buffer, 0);
}

static void
state_finish_leaf (ParseState *state)
{
  GazeMarkdownBlock *leaf = state->leaf;
  GString *buffer = state->buffer;

  if (leaf == NULL)
    return;

  state->leaf = NULL;

  /* md4c balances its spans, but a cut-short parse may leave some open. */
  for (; state->span_depth > 0; state->span_depth--)
    {
      if (state->span_depth <= GAZE_MARKDOWN_MAX_SPAN_DEPTH &&
          state->span_close[state->span_depth - 1] != NULL)
        g_string_append (buffer, state->span_close[state->span_depth - 1]);
    }

  if (leaf->kind == GAZE_MARKDOWN_BLOCK_CODE)
    {
      /* Every line of a code block ends with a newline, the last one too. */
      if (buffer->len > 0 && buffer->str[buffer->len - 1] == '\n')
        g_string_truncate (buffer, buffer->len - 1);
      leaf->text = g_strndup (buffer->str, buffer->len);
    }
  else if (buffer->len == 0 &&
           (leaf->kind == GAZE_MARKDOWN_BLOCK_PARAGRAPH ||
            leaf->kind == GAZE_MARKDOWN_BLOCK_HEADING))
    {
      /* An empty paragraph or heading ("#" while an answer streams, an image
       * without a description) would only add space. It is the last block
       * of its parent: nothing can be added while a leaf is open.
       */
      g_ptr_array_remove_index (state->leaf_parent->children,
                                state->leaf_parent->children->len - 1);
    }
  else
    {
      leaf->markup = g_strndup (buffer->str, buffer->len);
    }

  state->leaf_parent = NULL;
  g_string_truncate (buffer, 0);
}

/* Text directly in a list item (a tight list) goes into a paragraph. */
static void
state_ensure_leaf (ParseState *state)
{
  if (state->leaf == NULL)
    state_begin_leaf (state, state_container (state), block_new (GAZE_MARKDOWN_BLOCK_PARAGRAPH));
}

static GazeMarkdownBlock *
state_push_container (ParseState        *state,
                      GazeMarkdownBlock *block)
{
  block_append (state_container (state), block);
  g_ptr_array_add (state->containers, block);

  return block;
}

static GazeMarkdownAlign
align_from_md (MD_ALIGN align)
{
  switch (align)
    {
    case MD_ALIGN_LEFT:
      return GAZE_MARKDOWN_ALIGN_LEFT;
    case MD_ALIGN_CENTER:
      return GAZE_MARKDOWN_ALIGN_CENTER;
    case MD_ALIGN_RIGHT:
      return GAZE_MARKDOWN_ALIGN_RIGHT;
    case MD_ALIGN_DEFAULT:
    default:
      return GAZE_MARKDOWN_ALIGN_DEFAULT;
    }
}

static int
enter_block_cb (MD_BLOCKTYPE  type,
                void         *detail,
                void         *user_data)
{
  ParseState *state = user_data;
  GazeMarkdownBlock *block = NULL;

  /* A block ends the text that a tight list item began. */
  state_finish_leaf (state);

  switch (type)
    {
    case MD_BLOCK_DOC:
      break;

    case MD_BLOCK_QUOTE:
      if (state_depth (state) < GAZE_MARKDOWN_MAX_DEPTH)
        block = state_push_container (state, block_new (GAZE_MARKDOWN_BLOCK_QUOTE));
      break;

    case MD_BLOCK_UL:
    case MD_BLOCK_OL:
      /* A list is only made when there is room for its items too. */
      if (state_depth (state) + 2 <= GAZE_MARKDOWN_MAX_DEPTH)
        {
          block = block_new (GAZE_MARKDOWN_BLOCK_LIST);
          block->ordered = type == MD_BLOCK_OL;
          if (block->ordered)
            {
              block->number = ((MD_BLOCK_OL_DETAIL *)detail)->start;
              block->tight = ((MD_BLOCK_OL_DETAIL *)detail)->is_tight;
            }
          else
            {
              block->tight = ((MD_BLOCK_UL_DETAIL *)detail)->is_tight;
            }
          block->depth = state->list_depth++;
          state_push_container (state, block);
        }
      break;

    case MD_BLOCK_LI:
      {
        GazeMarkdownBlock *list = NULL;

        if (state->entered->len > 0)
          list = g_ptr_array_index (state->entered, state->entered->len - 1);

        if (list != NULL && list->kind == GAZE_MARKDOWN_BLOCK_LIST)
          {
            MD_BLOCK_LI_DETAIL *li = detail;

            block = block_new (GAZE_MARKDOWN_BLOCK_LIST_ITEM);
            block->ordered = list->ordered;
            block->depth = list->depth;
            if (list->ordered)
              block->number = list->number + block_n_children (list);
            if (li->is_task && li->task_mark == ' ')
              block->task = GAZE_MARKDOWN_TASK_OPEN;
            else if (li->is_task)
              block->task = GAZE_MARKDOWN_TASK_DONE;
            state_push_container (state, block);
          }
      }
      break;

    case MD_BLOCK_HR:
      block = block_new (GAZE_MARKDOWN_BLOCK_RULE);
      block_append (state_container (state), block);
      break;

    case MD_BLOCK_H:
      block = block_new (GAZE_MARKDOWN_BLOCK_HEADING);
      block->level = CLAMP (((MD_BLOCK_H_DETAIL *)detail)->level, 1, 6);
      state_begin_leaf (state, state_container (state), block);
      break;

    case MD_BLOCK_CODE:
      block = block_new (GAZE_MARKDOWN_BLOCK_CODE);
      block->language = attribute_to_string (&((MD_BLOCK_CODE_DETAIL *)detail)->lang);
      state_begin_leaf (state, state_container (state), block);
      break;

    case MD_BLOCK_TABLE:
      block = block_new (GAZE_MARKDOWN_BLOCK_TABLE);
      block_append (state_container (state), block);
      state->table = block;
      state->row = NULL;
      break;

    case MD_BLOCK_THEAD:
      state->in_table_head = TRUE;
      break;

    case MD_BLOCK_TBODY:
      state->in_table_head = FALSE;
      break;

    case MD_BLOCK_TR:
      if (state->table != NULL)
        {
          block = block_new (GAZE_MARKDOWN_BLOCK_TABLE_ROW);
          block->header = state->in_table_head;
          block_append (state->table, block);
          state->row = block;
        }
      break;

    case MD_BLOCK_TH:
    case MD_BLOCK_TD:
      if (state->row != NULL)
        {
          block = block_new (GAZE_MARKDOWN_BLOCK_TABLE_CELL);
          block->header = type == MD_BLOCK_TH;
          block->align = align_from_md (((MD_BLOCK_TD_DETAIL *)detail)->align);
          state_begin_leaf (state, state->row, block);
        }
      else
        {
          state_ensure_leaf (state);
        }
      break;

    /* Raw HTML is turned off, so HTML blocks only come as paragraphs. */
    case MD_BLOCK_HTML:
    case MD_BLOCK_P:
    default:
      block = block_new (GAZE_MARKDOWN_BLOCK_PARAGRAPH);
      state_begin_leaf (state, state_container (state), block);
      break;
    }

  g_ptr_array_add (state->entered, block);

  return 0;
}

static int
leave_block_cb (MD_BLOCKTYPE  type,
                void         *detail,
                void         *user_data)
{
  ParseState *state = user_data;
  GazeMarkdownBlock *block = NULL;

  if (state->entered->len > 0)
    block = g_ptr_array_steal_index (state->entered, state->entered->len - 1);

  state_finish_leaf (state);

  switch (type)
    {
    case MD_BLOCK_QUOTE:
    case MD_BLOCK_UL:
    case MD_BLOCK_OL:
    case MD_BLOCK_LI:
      if (block != NULL && state->containers->len > 1 && state_container (state) == block)
        {
          g_ptr_array_set_size (state->containers, state->containers->len - 1);
          if (block->kind == GAZE_MARKDOWN_BLOCK_LIST)
            state->list_depth--;
        }
      break;

    case MD_BLOCK_TABLE:
      state->table = NULL;
      state->row = NULL;
      break;

    case MD_BLOCK_TR:
      state->row = NULL;
      break;

    case MD_BLOCK_DOC:
    case MD_BLOCK_HR:
    case MD_BLOCK_H:
    case MD_BLOCK_CODE:
    case MD_BLOCK_HTML:
    case MD_BLOCK_P:
    case MD_BLOCK_THEAD:
    case MD_BLOCK_TBODY:
    case MD_BLOCK_TH:
    case MD_BLOCK_TD:
    default:
      break;
    }

  return 0;
}

static int
enter_span_cb (MD_SPANTYPE  type,
               void        *detail,
               void        *user_data)
{
  ParseState *state = user_data;
  const char *close = NULL;

  state_ensure_leaf (state);

  if (state->span_depth++ >= GAZE_MARKDOWN_MAX_SPAN_DEPTH)
    return 0;

  switch (type)
    {
    case MD_SPAN_EM:
      g_string_append (state->buffer, "<i>");
      close = "</i>";
      break;

    case MD_SPAN_STRONG:
      g_string_append (state->buffer, "<b>");
      close = "</b>";
      break;

    case MD_SPAN_DEL:
      g_string_append (state->buffer, "<s>");
      close = "</s>";
      break;

    case MD_SPAN_CODE:
      g_string_append (state->buffer, CODE_SPAN_OPEN);
      close = CODE_SPAN_CLOSE;
      break;

    case MD_SPAN_A:
      {
        g_autofree char *href = attribute_to_string (&((MD_SPAN_A_DETAIL *)detail)->href);

        /* A link that may not open is shown as its text. */
        if (state->link_depth == 0 && gaze_markdown_link_is_allowed (href))
          {
            g_string_append (state->buffer, "<a href=\"");
            append_escaped (state->buffer, href, strlen (href));
            g_string_append (state->buffer, "\">");
            close = link_close;
            state->link_depth++;
          }
      }
      break;

    /* An image shows its description, which md4c gives as text. */
    case MD_SPAN_IMG:
    case MD_SPAN_LATEXMATH:
    case MD_SPAN_LATEXMATH_DISPLAY:
    case MD_SPAN_WIKILINK:
    case MD_SPAN_U:
    default:
      break;
    }

  state->span_close[state->span_depth - 1] = close;

  return 0;
}

static int
leave_span_cb (MD_SPANTYPE  type,
               void        *detail,
               void        *user_data)
{
  ParseState *state = user_data;
  const char *close;

  if (state->leaf == NULL || state->span_depth == 0)
    return 0;

  state->span_depth--;
  if (state->span_depth >= GAZE_MARKDOWN_MAX_SPAN_DEPTH)
    return 0;

  close = state->span_close[state->span_depth];
  if (close != NULL)
    g_string_append (state->buffer, close);
  if (close == link_close)
    state->link_depth--;

  return 0;
}

static int
text_cb (MD_TEXTTYPE    type,
         const MD_CHAR *text,
         MD_SIZE        size,
         void          *user_data)
{
  ParseState *state = user_data;

  state_ensure_leaf (state);

  if (state->leaf->kind == GAZE_MARKDOWN_BLOCK_CODE)
    {
      if (type == MD_TEXT_NULLCHAR)
        g_string_append (state->buffer, REPLACEMENT_CHARACTER);
      else
        g_string_append_len (state->buffer, text, size);
      return 0;
    }

  switch (type)
    {
    case MD_TEXT_NULLCHAR:
      g_string_append (state->buffer, REPLACEMENT_CHARACTER);
      break;

    /* Answers are written for chat, where a single newline is meant as one. */
    case MD_TEXT_BR:
    case MD_TEXT_SOFTBR:
      g_string_append_c (state->buffer, '\n');
      break;

    case MD_TEXT_ENTITY:
      append_entity_escaped (state->buffer, text, size);
      break;

    case MD_TEXT_NORMAL:
    case MD_TEXT_CODE:
    case MD_TEXT_HTML:
    case MD_TEXT_LATEXMATH:
    default:
      append_escaped (state->buffer, text, size);
      break;
    }

  return 0;
}

/* md4c takes any bytes, but the markup must be valid UTF-8 and control
 * characters would only show as boxes: both become U+FFFD.
 *
 * The copy also ends in a NUL byte that md4c owns: md4c 0.4.8 can read a
 * byte past the end of its input (at an autolink that ends the text), and
 * a streamed answer is parsed as a prefix of a longer buffer, whose next
 * byte would be taken as part of the link.
 */
static GString *
make_valid (const char *text,
            gsize       len)
{
  const char *p = text;
  const char *end = text + len;
  GString *valid;

  if (g_utf8_validate_len (text, len, NULL))
    {
      gboolean clean = TRUE;

      for (gsize i = 0; i < len && clean; i++)
        clean = !is_control ((guchar)text[i]);

      if (clean)
        return g_string_new_len (text, len);
    }

  valid = g_string_sized_new (len + 16);

  while (p < end)
    {
      gunichar c = g_utf8_get_char_validated (p, end - p);

      if (c == (gunichar)-1 || c == (gunichar)-2)
        {
          g_string_append (valid, REPLACEMENT_CHARACTER);
          p++;
          continue;
        }

      if (is_control (c))
        g_string_append (valid, REPLACEMENT_CHARACTER);
      else
        g_string_append_len (valid, p, g_utf8_next_char (p) - p);

      p = g_utf8_next_char (p);
    }

  return valid;
}

/**
 * gaze_markdown_parse:
 * @text: (array length=len): an answer, in Markdown; any bytes
 * @len: the length of @text in bytes
 *
 * Parses @text into blocks. Invalid UTF-8 and control characters become
 * U+FFFD, nesting is capped at %GAZE_MARKDOWN_MAX_DEPTH and text past
 * %GAZE_MARKDOWN_MAX_LENGTH bytes is left out.
 *
 * Returns: (transfer full): the document
 */
GazeMarkdownDocument *
gaze_markdown_parse (const char *text,
                     gsize       len)
{
  static const MD_PARSER parser = {
    .abi_version = 0,
    .flags = PARSER_FLAGS,
    .enter_block = enter_block_cb,
    .leave_block = leave_block_cb,
    .enter_span = enter_span_cb,
    .leave_span = leave_span_cb,
    .text = text_cb,
  };
  g_autoptr(GString) valid = NULL;
  GazeMarkdownDocument *self;
  ParseState state = { 0 };

  g_return_val_if_fail (text != NULL || len == 0, NULL);

  self = g_new0 (GazeMarkdownDocument, 1);
  g_atomic_ref_count_init (&self->ref_count);
  self->root = block_new (GAZE_MARKDOWN_BLOCK_DOCUMENT);

  if (len == 0)
    return self;

  valid = make_valid (text, MIN (len, GAZE_MARKDOWN_MAX_LENGTH));

  state.entered = g_ptr_array_new ();
  state.containers = g_ptr_array_new ();
  state.buffer = g_string_sized_new (256);
  g_ptr_array_add (state.containers, self->root);

  if (md_parse (valid->str, (MD_SIZE)valid->len, &parser, &state) != 0)
    g_debug ("md4c could not parse an answer of %" G_GSIZE_FORMAT " bytes", valid->len);

  state_finish_leaf (&state);

  g_ptr_array_unref (state.entered);
  g_ptr_array_unref (state.containers);
  g_string_free (state.buffer, TRUE);

  return self;
}

GazeMarkdownDocument *
gaze_markdown_document_ref (GazeMarkdownDocument *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  g_atomic_ref_count_inc (&self->ref_count);

  return self;
}

void
gaze_markdown_document_unref (GazeMarkdownDocument *self)
{
  g_return_if_fail (self != NULL);

  if (g_atomic_ref_count_dec (&self->ref_count))
    {
      block_free (self->root);
      g_free (self);
    }
}

/**
 * gaze_markdown_document_get_root:
 *
 * Returns: (transfer none): the block of kind %GAZE_MARKDOWN_BLOCK_DOCUMENT
 *   whose children are the document's blocks
 */
const GazeMarkdownBlock *
gaze_markdown_document_get_root (GazeMarkdownDocument *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->root;
}

guint
gaze_markdown_document_get_n_blocks (GazeMarkdownDocument *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return block_n_children (self->root);
}

/**
 * gaze_markdown_document_get_block:
 *
 * Returns: (transfer none): the top-level block at @position, valid as
 *   long as @self
 */
const GazeMarkdownBlock *
gaze_markdown_document_get_block (GazeMarkdownDocument *self,
                                  guint                 position)
{
  g_return_val_if_fail (self != NULL, NULL);

  return gaze_markdown_block_get_child (self->root, position);
}

GazeMarkdownBlockKind
gaze_markdown_block_get_kind (const GazeMarkdownBlock *block)
{
  g_return_val_if_fail (block != NULL, GAZE_MARKDOWN_BLOCK_DOCUMENT);

  return block->kind;
}

/**
 * gaze_markdown_block_get_n_children:
 *
 * The document, quotes and list items hold blocks, lists hold list items,
 * tables hold rows and rows hold cells.
 */
guint
gaze_markdown_block_get_n_children (const GazeMarkdownBlock *block)
{
  g_return_val_if_fail (block != NULL, 0);

  return block_n_children (block);
}

/**
 * gaze_markdown_block_get_child:
 *
 * Returns: (transfer none): the child at @position
 */
const GazeMarkdownBlock *
gaze_markdown_block_get_child (const GazeMarkdownBlock *block,
                               guint                    position)
{
  g_return_val_if_fail (block != NULL, NULL);
  g_return_val_if_fail (position < block_n_children (block), NULL);

  return g_ptr_array_index (block->children, position);
}

/**
 * gaze_markdown_block_get_markup:
 *
 * Returns: (nullable): the inline content of a paragraph, heading or table
 *   cell as Pango markup with GtkLabel's links, or %NULL for other blocks
 */
const char *
gaze_markdown_block_get_markup (const GazeMarkdownBlock *block)
{
  g_return_val_if_fail (block != NULL, NULL);

  return block->markup;
}

/* A heading's level, from 1 to 6; 0 for other blocks. */
guint
gaze_markdown_block_get_level (const GazeMarkdownBlock *block)
{
  g_return_val_if_fail (block != NULL, 0);

  return block->level;
}

/* How many lists a list or list item is in: 0 for an outermost one. */
guint
gaze_markdown_block_get_depth (const GazeMarkdownBlock *block)
{
  g_return_val_if_fail (block != NULL, 0);

  return block->depth;
}

gboolean
gaze_markdown_block_get_ordered (const GazeMarkdownBlock *block)
{
  g_return_val_if_fail (block != NULL, FALSE);

  return block->ordered;
}

/* Whether a list is tight: no blank line between its items or in them. */
gboolean
gaze_markdown_block_get_tight (const GazeMarkdownBlock *block)
{
  g_return_val_if_fail (block != NULL, FALSE);

  return block->tight;
}

/* The first number of an ordered list, or the number of an item in one;
 * 0 otherwise.
 */
guint
gaze_markdown_block_get_number (const GazeMarkdownBlock *block)
{
  g_return_val_if_fail (block != NULL, 0);

  return block->number;
}

GazeMarkdownTask
gaze_markdown_block_get_task (const GazeMarkdownBlock *block)
{
  g_return_val_if_fail (block != NULL, GAZE_MARKDOWN_TASK_NONE);

  return block->task;
}

/**
 * gaze_markdown_block_get_language:
 *
 * Returns: (nullable): the language a code block names ("" when it names
 *   none), or %NULL for other blocks
 */
const char *
gaze_markdown_block_get_language (const GazeMarkdownBlock *block)
{
  g_return_val_if_fail (block != NULL, NULL);

  return block->language;
}

/**
 * gaze_markdown_block_get_text:
 *
 * Returns: (nullable): the raw text of a code block, without its last
 *   newline, or %NULL for other blocks
 */
const char *
gaze_markdown_block_get_text (const GazeMarkdownBlock *block)
{
  g_return_val_if_fail (block != NULL, NULL);

  return block->text;
}

GazeMarkdownAlign
gaze_markdown_block_get_align (const GazeMarkdownBlock *block)
{
  g_return_val_if_fail (block != NULL, GAZE_MARKDOWN_ALIGN_DEFAULT);

  return block->align;
}

/* Whether a table row or cell is in the table's head. */
gboolean
gaze_markdown_block_get_header (const GazeMarkdownBlock *block)
{
  g_return_val_if_fail (block != NULL, FALSE);

  return block->header;
}

/**
 * gaze_markdown_block_equal:
 * @a: (nullable): a block
 * @b: (nullable): another block
 *
 * Returns: whether @a and @b, with all their children, would look the same
 */
gboolean
gaze_markdown_block_equal (const GazeMarkdownBlock *a,
                           const GazeMarkdownBlock *b)
{
  guint n;

  if (a == b)
    return TRUE;

  if (a == NULL || b == NULL)
    return FALSE;

  if (a->kind != b->kind ||
      a->task != b->task ||
      a->align != b->align ||
      a->level != b->level ||
      a->depth != b->depth ||
      a->number != b->number ||
      a->ordered != b->ordered ||
      a->tight != b->tight ||
      a->header != b->header)
    return FALSE;

  if (g_strcmp0 (a->markup, b->markup) != 0 ||
      g_strcmp0 (a->text, b->text) != 0 ||
      g_strcmp0 (a->language, b->language) != 0)
    return FALSE;

  n = block_n_children (a);
  if (n != block_n_children (b))
    return FALSE;

  for (guint i = 0; i < n; i++)
    {
      if (!gaze_markdown_block_equal (g_ptr_array_index (a->children, i),
                                      g_ptr_array_index (b->children, i)))
        return FALSE;
    }

  return TRUE;
}
