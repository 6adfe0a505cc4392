/* gaze-markdown.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define GAZE_TYPE_MARKDOWN_DOCUMENT (gaze_markdown_document_get_type ())

/* Quotes, lists and list items nested deeper than this are flattened into
 * their deepest allowed ancestor, so that no answer can build a widget tree
 * deep enough to exhaust the stack.
 */
#define GAZE_MARKDOWN_MAX_DEPTH 16

/* Inline spans (emphasis, links...) nested deeper than this lose their
 * styling but keep their text.
 */
#define GAZE_MARKDOWN_MAX_SPAN_DEPTH 32

/* Bytes of text beyond this are not shown. */
#define GAZE_MARKDOWN_MAX_LENGTH (16 * 1024 * 1024)

typedef enum
{
  GAZE_MARKDOWN_BLOCK_DOCUMENT,
  GAZE_MARKDOWN_BLOCK_PARAGRAPH,
  GAZE_MARKDOWN_BLOCK_HEADING,
  GAZE_MARKDOWN_BLOCK_QUOTE,
  GAZE_MARKDOWN_BLOCK_LIST,
  GAZE_MARKDOWN_BLOCK_LIST_ITEM,
  GAZE_MARKDOWN_BLOCK_CODE,
  GAZE_MARKDOWN_BLOCK_TABLE,
  GAZE_MARKDOWN_BLOCK_TABLE_ROW,
  GAZE_MARKDOWN_BLOCK_TABLE_CELL,
  GAZE_MARKDOWN_BLOCK_RULE,
} GazeMarkdownBlockKind;

typedef enum
{
  GAZE_MARKDOWN_TASK_NONE,
  GAZE_MARKDOWN_TASK_OPEN,
  GAZE_MARKDOWN_TASK_DONE,
} GazeMarkdownTask;

typedef enum
{
  GAZE_MARKDOWN_ALIGN_DEFAULT,
  GAZE_MARKDOWN_ALIGN_LEFT,
  GAZE_MARKDOWN_ALIGN_CENTER,
  GAZE_MARKDOWN_ALIGN_RIGHT,
} GazeMarkdownAlign;

typedef struct _GazeMarkdownDocument GazeMarkdownDocument;
typedef struct _GazeMarkdownBlock    GazeMarkdownBlock;

GType                    gaze_markdown_document_get_type     (void) G_GNUC_CONST;
GazeMarkdownDocument    *gaze_markdown_parse                 (const char                *text,
                                                              gsize                      len);
GazeMarkdownDocument    *gaze_markdown_document_ref          (GazeMarkdownDocument      *self);
void                     gaze_markdown_document_unref        (GazeMarkdownDocument      *self);
const GazeMarkdownBlock *gaze_markdown_document_get_root     (GazeMarkdownDocument      *self);
guint                    gaze_markdown_document_get_n_blocks (GazeMarkdownDocument      *self);
const GazeMarkdownBlock *gaze_markdown_document_get_block    (GazeMarkdownDocument      *self,
                                                              guint                      position);

GazeMarkdownBlockKind    gaze_markdown_block_get_kind        (const GazeMarkdownBlock   *block);
guint                    gaze_markdown_block_get_n_children  (const GazeMarkdownBlock   *block);
const GazeMarkdownBlock *gaze_markdown_block_get_child       (const GazeMarkdownBlock   *block,
                                                              guint                      position);
const char              *gaze_markdown_block_get_markup      (const GazeMarkdownBlock   *block);
guint                    gaze_markdown_block_get_level       (const GazeMarkdownBlock   *block);
guint                    gaze_markdown_block_get_depth       (const GazeMarkdownBlock   *block);
gboolean                 gaze_markdown_block_get_ordered     (const GazeMarkdownBlock   *block);
gboolean                 gaze_markdown_block_get_tight       (const GazeMarkdownBlock   *block);
guint                    gaze_markdown_block_get_number      (const GazeMarkdownBlock   *block);
GazeMarkdownTask         gaze_markdown_block_get_task        (const GazeMarkdownBlock   *block);
const char              *gaze_markdown_block_get_language    (const GazeMarkdownBlock   *block);
const char              *gaze_markdown_block_get_text        (const GazeMarkdownBlock   *block);
GazeMarkdownAlign        gaze_markdown_block_get_align       (const GazeMarkdownBlock   *block);
gboolean                 gaze_markdown_block_get_header      (const GazeMarkdownBlock   *block);
gboolean                 gaze_markdown_block_equal           (const GazeMarkdownBlock   *a,
                                                              const GazeMarkdownBlock   *b);

gboolean                 gaze_markdown_link_is_allowed       (const char                *uri);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GazeMarkdownDocument, gaze_markdown_document_unref)

G_END_DECLS
