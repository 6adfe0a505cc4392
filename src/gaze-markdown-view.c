/* gaze-markdown-view.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "gaze-markdown-view"

#include "config.h"

#include <string.h>
#include <glib/gi18n.h>

#include "gaze-markdown.h"
#include "gaze-markdown-view.h"

/* An answer in Markdown, as labels, lists, code blocks and tables.
 *
 * The widgets mirror the blocks of the last parsed document: the nth child
 * of a container widget shows the nth child of its block. While an answer
 * streams in, set_text() is called with ever longer text; the widgets of
 * the blocks that did not change are kept, the first block that changed is
 * updated in place when it can be, and only the blocks after it are built
 * again.
 */
struct _GazeMarkdownView
{
  GtkWidget             parent_instance;

  char                 *text;
  GazeMarkdownDocument *document;

  /* The Copy button that shows a check mark for a moment. */
  GtkButton            *copied_button;
  guint                 copied_source;
};

enum {
  PROP_0,
  PROP_TEXT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (GazeMarkdownView, gaze_markdown_view, GTK_TYPE_WIDGET)

#define COPY_ICON   "edit-copy-symbolic"
#define COPIED_ICON "object-select-symbolic"

static GtkWidget *create_block  (GazeMarkdownView        *self,
                                 const GazeMarkdownBlock *block);
static void       sync_children (GazeMarkdownView        *self,
                                 GtkWidget               *parent,
                                 const GazeMarkdownBlock *old_block,
                                 const GazeMarkdownBlock *new_block);

static const GazeMarkdownBlock *
child_block (const GazeMarkdownBlock *block,
             guint                    position)
{
  return gaze_markdown_block_get_child (block, position);
}

static guint
n_child_blocks (const GazeMarkdownBlock *block)
{
  return block != NULL ? gaze_markdown_block_get_n_children (block) : 0;
}

static gboolean
activate_link_cb (GtkLabel   *label,
                  const char *uri,
                  gpointer    user_data)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (label));

  g_assert (GTK_IS_LABEL (label));

  /* The parser only makes such links; this is a second lock on the door. */
  if (gaze_markdown_link_is_allowed (uri))
    gtk_show_uri (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL, uri, GDK_CURRENT_TIME);
  else
    g_debug ("Not opening a link that is not for the web or for mail");

  return TRUE;
}

static GtkWidget *
create_label_with_role (const char        *markup,
                        GtkAccessibleRole  role)
{
  GtkWidget *label = g_object_new (GTK_TYPE_LABEL, "accessible-role", role, NULL);

  gtk_label_set_markup (GTK_LABEL (label), markup);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_xalign (GTK_LABEL (label), 0.0);
  gtk_label_set_selectable (GTK_LABEL (label), TRUE);
  g_signal_connect (label, "activate-link", G_CALLBACK (activate_link_cb), NULL);

  return label;
}

static GtkWidget *
create_label (const char *markup)
{
  return create_label_with_role (markup, GTK_ACCESSIBLE_ROLE_LABEL);
}

static void
update_label (GtkWidget  *label,
              const char *markup)
{
  if (g_strcmp0 (gtk_label_get_label (GTK_LABEL (label)), markup) != 0)
    gtk_label_set_markup (GTK_LABEL (label), markup);
}

static const char *
heading_style_class (guint level)
{
  static const char * const classes[] = { "title-1", "title-2", "title-3", "title-4" };

  return level >= 1 && level <= G_N_ELEMENTS (classes) ? classes[level - 1] : "heading";
}

static GtkWidget *
create_heading (const GazeMarkdownBlock *block)
{
  guint level = gaze_markdown_block_get_level (block);
  GtkWidget *label;

  /* Screen readers can move from heading to heading. */
  label = create_label_with_role (gaze_markdown_block_get_markup (block),
                                  GTK_ACCESSIBLE_ROLE_HEADING);
  gtk_accessible_update_property (GTK_ACCESSIBLE (label),
                                  GTK_ACCESSIBLE_PROPERTY_LEVEL, (int)level,
                                  -1);
  gtk_widget_add_css_class (label, heading_style_class (level));
  gtk_widget_add_css_class (label, "markdown-heading");

  return label;
}

static void
restore_copy_button (GazeMarkdownView *self)
{
  g_assert (GAZE_IS_MARKDOWN_VIEW (self));

  g_clear_handle_id (&self->copied_source, g_source_remove);

  if (self->copied_button != NULL)
    {
      gtk_button_set_icon_name (self->copied_button, COPY_ICON);
      gtk_widget_set_tooltip_text (GTK_WIDGET (self->copied_button), _("Copy Code"));
      g_clear_weak_pointer (&self->copied_button);
    }
}

static gboolean
copied_timeout_cb (gpointer user_data)
{
  GazeMarkdownView *self = user_data;

  g_assert (GAZE_IS_MARKDOWN_VIEW (self));

  self->copied_source = 0;
  restore_copy_button (self);

  return G_SOURCE_REMOVE;
}

static void
copy_clicked_cb (GtkButton        *button,
                 GazeMarkdownView *self)
{
  const char *code = g_object_get_data (G_OBJECT (button), "code");

  g_assert (GTK_IS_BUTTON (button));
  g_assert (GAZE_IS_MARKDOWN_VIEW (self));

  gdk_clipboard_set_text (gtk_widget_get_clipboard (GTK_WIDGET (button)), code ? code : "");

  /* A check mark for a moment says that the copy happened. */
  restore_copy_button (self);
  gtk_button_set_icon_name (button, COPIED_ICON);
  gtk_widget_set_tooltip_text (GTK_WIDGET (button), _("Copied"));
  g_set_weak_pointer (&self->copied_button, button);
  self->copied_source = g_timeout_add_seconds (2, copied_timeout_cb, self);
}

static void
update_code_block (GtkWidget               *card,
                   const GazeMarkdownBlock *block)
{
  GtkWidget *language_label = g_object_get_data (G_OBJECT (card), "language-label");
  GtkWidget *code_label = g_object_get_data (G_OBJECT (card), "code-label");
  GtkWidget *copy_button = g_object_get_data (G_OBJECT (card), "copy-button");
  const char *language = gaze_markdown_block_get_language (block);
  const char *code = gaze_markdown_block_get_text (block);

  gtk_label_set_text (GTK_LABEL (language_label), language);
  gtk_label_set_text (GTK_LABEL (code_label), code);
  g_object_set_data_full (G_OBJECT (copy_button), "code", g_strdup (code), g_free);

  if (language != NULL && language[0] != '\0')
    {
      g_autofree char *description = NULL;

      /* Translators: the accessible name of a block of code; %s is the
       * name of its programming language, such as "python".
       */
      description = g_strdup_printf (_("%s code"), language);
      gtk_accessible_update_property (GTK_ACCESSIBLE (card),
                                      GTK_ACCESSIBLE_PROPERTY_LABEL, description,
                                      -1);
    }
  else
    {
      gtk_accessible_update_property (GTK_ACCESSIBLE (card),
                                      GTK_ACCESSIBLE_PROPERTY_LABEL, _("Code"),
                                      -1);
    }
}

static GtkWidget *
create_code_block (GazeMarkdownView        *self,
                   const GazeMarkdownBlock *block)
{
  GtkWidget *card;
  GtkWidget *header;
  GtkWidget *language_label;
  GtkWidget *copy_button;
  GtkWidget *scroller;
  GtkWidget *code_label;

  g_assert (GAZE_IS_MARKDOWN_VIEW (self));

  card = g_object_new (GTK_TYPE_BOX,
                       "orientation", GTK_ORIENTATION_VERTICAL,
                       "accessible-role", GTK_ACCESSIBLE_ROLE_GROUP,
                       "overflow", GTK_OVERFLOW_HIDDEN,
                       NULL);
  gtk_widget_add_css_class (card, "card");
  gtk_widget_add_css_class (card, "code-block");

  header = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  gtk_widget_add_css_class (header, "code-header");
  gtk_box_append (GTK_BOX (card), header);

  language_label = g_object_new (GTK_TYPE_LABEL,
                                 "xalign", 0.0f,
                                 "hexpand", TRUE,
                                 "ellipsize", PANGO_ELLIPSIZE_END,
                                 NULL);
  gtk_widget_add_css_class (language_label, "caption");
  gtk_widget_add_css_class (language_label, "dim-label");
  gtk_box_append (GTK_BOX (header), language_label);

  copy_button = g_object_new (GTK_TYPE_BUTTON,
                              "icon-name", COPY_ICON,
                              "tooltip-text", _("Copy Code"),
                              "valign", GTK_ALIGN_CENTER,
                              NULL);
  gtk_widget_add_css_class (copy_button, "flat");
  g_signal_connect_object (copy_button, "clicked", G_CALLBACK (copy_clicked_cb), self, 0);
  gtk_box_append (GTK_BOX (header), copy_button);

  /* Code is not wrapped: long lines scroll sideways. */
  scroller = g_object_new (GTK_TYPE_SCROLLED_WINDOW,
                           "hscrollbar-policy", GTK_POLICY_AUTOMATIC,
                           "vscrollbar-policy", GTK_POLICY_NEVER,
                           NULL);
  gtk_box_append (GTK_BOX (card), scroller);

  code_label = g_object_new (GTK_TYPE_LABEL,
                             "xalign", 0.0f,
                             "yalign", 0.0f,
                             "selectable", TRUE,
                             NULL);
  gtk_widget_add_css_class (code_label, "monospace");
  gtk_widget_add_css_class (code_label, "code");
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroller), code_label);

  g_object_set_data (G_OBJECT (card), "language-label", language_label);
  g_object_set_data (G_OBJECT (card), "code-label", code_label);
  g_object_set_data (G_OBJECT (card), "copy-button", copy_button);
  update_code_block (card, block);

  return card;
}

static GtkWidget *
create_list_marker (const GazeMarkdownBlock *item)
{
  static const char * const bullets[] = { "•", "◦", "▪" };
  GazeMarkdownTask task = gaze_markdown_block_get_task (item);
  GtkWidget *marker;

  if (task != GAZE_MARKDOWN_TASK_NONE)
    {
      /* It shows a state of the answer: it does not take clicks. */
      marker = g_object_new (GTK_TYPE_CHECK_BUTTON,
                             "active", task == GAZE_MARKDOWN_TASK_DONE,
                             "can-focus", FALSE,
                             "can-target", FALSE,
                             "valign", GTK_ALIGN_START,
                             NULL);
      gtk_widget_add_css_class (marker, "task");
    }
  else
    {
      g_autofree char *number = NULL;
      const char *text;

      if (gaze_markdown_block_get_ordered (item))
        text = number = g_strdup_printf ("%u.", gaze_markdown_block_get_number (item));
      else
        text = bullets[MIN (gaze_markdown_block_get_depth (item), G_N_ELEMENTS (bullets) - 1)];

      marker = g_object_new (GTK_TYPE_LABEL,
                             "label", text,
                             "xalign", 1.0f,
                             "valign", GTK_ALIGN_START,
                             NULL);
      gtk_widget_add_css_class (marker, number != NULL ? "number" : "bullet");
    }

  gtk_widget_add_css_class (marker, "list-marker");

  return marker;
}

static GtkWidget *
create_sequence_box (GazeMarkdownView        *self,
                     const GazeMarkdownBlock *block,
                     const char              *css_class)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);

  g_assert (GAZE_IS_MARKDOWN_VIEW (self));

  gtk_widget_add_css_class (box, css_class);
  sync_children (self, box, NULL, block);

  return box;
}

/* A loose list, with blank lines between its items in the text, is spaced
 * like paragraphs; a tight one is spaced like lines.
 */
static int
list_spacing (const GazeMarkdownBlock *list)
{
  return gaze_markdown_block_get_tight (list) ? 6 : 12;
}

static void
attach_list_item (GazeMarkdownView        *self,
                  GtkGrid                 *grid,
                  const GazeMarkdownBlock *item,
                  int                      row)
{
  GtkWidget *content = create_sequence_box (self, item, "list-item");

  g_assert (GAZE_IS_MARKDOWN_VIEW (self));

  gtk_box_set_spacing (GTK_BOX (content), gtk_grid_get_row_spacing (grid));
  gtk_widget_set_hexpand (content, TRUE);
  gtk_grid_attach (grid, create_list_marker (item), 0, row, 1, 1);
  gtk_grid_attach (grid, content, 1, row, 1, 1);
}

static gboolean
lists_look_alike (const GazeMarkdownBlock *a,
                  const GazeMarkdownBlock *b)
{
  return gaze_markdown_block_get_kind (a) == gaze_markdown_block_get_kind (b) &&
         gaze_markdown_block_get_ordered (a) == gaze_markdown_block_get_ordered (b) &&
         gaze_markdown_block_get_tight (a) == gaze_markdown_block_get_tight (b) &&
         gaze_markdown_block_get_number (a) == gaze_markdown_block_get_number (b) &&
         gaze_markdown_block_get_depth (a) == gaze_markdown_block_get_depth (b) &&
         gaze_markdown_block_get_task (a) == gaze_markdown_block_get_task (b);
}

/* Returns how many leading children of @old_block and @new_block are equal. */
static guint
count_equal_children (const GazeMarkdownBlock *old_block,
                      const GazeMarkdownBlock *new_block)
{
  guint n_old = n_child_blocks (old_block);
  guint n_new = n_child_blocks (new_block);
  guint i = 0;

  while (i < n_old && i < n_new &&
         gaze_markdown_block_equal (child_block (old_block, i), child_block (new_block, i)))
    i++;

  return i;
}

static void
sync_list (GazeMarkdownView        *self,
           GtkGrid                 *grid,
           const GazeMarkdownBlock *old_list,
           const GazeMarkdownBlock *new_list)
{
  guint n_old = n_child_blocks (old_list);
  guint n_new = n_child_blocks (new_list);
  guint first = count_equal_children (old_list, new_list);

  g_assert (GAZE_IS_MARKDOWN_VIEW (self));

  if (first < n_old && first < n_new &&
      lists_look_alike (child_block (old_list, first), child_block (new_list, first)))
    {
      sync_children (self, gtk_grid_get_child_at (grid, 1, first),
                     child_block (old_list, first), child_block (new_list, first));
      first++;
    }

  for (guint i = first; i < n_old; i++)
    gtk_grid_remove_row (grid, first);

  for (guint i = first; i < n_new; i++)
    attach_list_item (self, grid, child_block (new_list, i), i);
}

static GtkWidget *
create_list (GazeMarkdownView        *self,
             const GazeMarkdownBlock *block)
{
  GtkWidget *grid = g_object_new (GTK_TYPE_GRID,
                                  "column-spacing", 8,
                                  "row-spacing", list_spacing (block),
                                  NULL);

  g_assert (GAZE_IS_MARKDOWN_VIEW (self));

  gtk_widget_add_css_class (grid, "markdown-list");
  sync_list (self, GTK_GRID (grid), NULL, block);

  return grid;
}

static float
xalign_for (GazeMarkdownAlign align)
{
  switch (align)
    {
    case GAZE_MARKDOWN_ALIGN_CENTER:
      return 0.5f;
    case GAZE_MARKDOWN_ALIGN_RIGHT:
      return 1.0f;
    case GAZE_MARKDOWN_ALIGN_LEFT:
    case GAZE_MARKDOWN_ALIGN_DEFAULT:
    default:
      return 0.0f;
    }
}

static void
attach_table_row (GtkGrid                 *grid,
                  const GazeMarkdownBlock *row,
                  int                      position)
{
  for (guint i = 0; i < n_child_blocks (row); i++)
    {
      const GazeMarkdownBlock *cell = child_block (row, i);
      GtkWidget *label = create_label (gaze_markdown_block_get_markup (cell));

      gtk_label_set_xalign (GTK_LABEL (label), xalign_for (gaze_markdown_block_get_align (cell)));
      gtk_widget_add_css_class (label, "cell");
      gtk_widget_add_css_class (label,
                                gaze_markdown_block_get_header (row) ? "head-cell" : "body-cell");
      gtk_grid_attach (grid, label, i, position, 1, 1);
    }
}

static void
sync_table (GtkGrid                 *grid,
            const GazeMarkdownBlock *old_table,
            const GazeMarkdownBlock *new_table)
{
  guint n_old = n_child_blocks (old_table);
  guint n_new = n_child_blocks (new_table);
  guint first = count_equal_children (old_table, new_table);

  for (guint i = first; i < n_old; i++)
    gtk_grid_remove_row (grid, first);

  for (guint i = first; i < n_new; i++)
    attach_table_row (grid, child_block (new_table, i), i);
}

static GtkWidget *
create_table (const GazeMarkdownBlock *block)
{
  GtkWidget *grid = g_object_new (GTK_TYPE_GRID,
                                  "halign", GTK_ALIGN_START,
                                  "overflow", GTK_OVERFLOW_HIDDEN,
                                  NULL);

  gtk_widget_add_css_class (grid, "markdown-table");
  sync_table (GTK_GRID (grid), NULL, block);

  return grid;
}

static GtkWidget *
create_block (GazeMarkdownView        *self,
              const GazeMarkdownBlock *block)
{
  GtkWidget *widget;

  g_assert (GAZE_IS_MARKDOWN_VIEW (self));

  switch (gaze_markdown_block_get_kind (block))
    {
    case GAZE_MARKDOWN_BLOCK_PARAGRAPH:
      widget = create_label (gaze_markdown_block_get_markup (block));
      gtk_widget_add_css_class (widget, "markdown-paragraph");
      return widget;

    case GAZE_MARKDOWN_BLOCK_HEADING:
      return create_heading (block);

    case GAZE_MARKDOWN_BLOCK_QUOTE:
      return create_sequence_box (self, block, "markdown-quote");

    case GAZE_MARKDOWN_BLOCK_LIST:
      return create_list (self, block);

    case GAZE_MARKDOWN_BLOCK_CODE:
      return create_code_block (self, block);

    case GAZE_MARKDOWN_BLOCK_TABLE:
      return create_table (block);

    case GAZE_MARKDOWN_BLOCK_RULE:
      widget = gtk_separator_new (GTK_ORIENTATION_HORIZONTAL);
      gtk_widget_add_css_class (widget, "markdown-rule");
      return widget;

    /* The parser does not put these at this level; show their content anyway. */
    case GAZE_MARKDOWN_BLOCK_DOCUMENT:
    case GAZE_MARKDOWN_BLOCK_LIST_ITEM:
    case GAZE_MARKDOWN_BLOCK_TABLE_ROW:
    case GAZE_MARKDOWN_BLOCK_TABLE_CELL:
    default:
      return create_sequence_box (self, block, "markdown-group");
    }
}

/* Makes the widget of @old_block show @new_block, when they are alike
 * enough for that. Returns FALSE when the widget must be built again.
 */
static gboolean
update_block (GazeMarkdownView        *self,
              GtkWidget               *widget,
              const GazeMarkdownBlock *old_block,
              const GazeMarkdownBlock *new_block)
{
  g_assert (GAZE_IS_MARKDOWN_VIEW (self));

  if (gaze_markdown_block_get_kind (old_block) != gaze_markdown_block_get_kind (new_block))
    return FALSE;

  switch (gaze_markdown_block_get_kind (new_block))
    {
    case GAZE_MARKDOWN_BLOCK_HEADING:
      if (gaze_markdown_block_get_level (old_block) != gaze_markdown_block_get_level (new_block))
        return FALSE;
      G_GNUC_FALLTHROUGH;

    case GAZE_MARKDOWN_BLOCK_PARAGRAPH:
      update_label (widget, gaze_markdown_block_get_markup (new_block));
      return TRUE;

    case GAZE_MARKDOWN_BLOCK_QUOTE:
      sync_children (self, widget, old_block, new_block);
      return TRUE;

    case GAZE_MARKDOWN_BLOCK_LIST:
      if (!lists_look_alike (old_block, new_block))
        return FALSE;
      sync_list (self, GTK_GRID (widget), old_block, new_block);
      return TRUE;

    case GAZE_MARKDOWN_BLOCK_CODE:
      update_code_block (widget, new_block);
      return TRUE;

    case GAZE_MARKDOWN_BLOCK_TABLE:
      sync_table (GTK_GRID (widget), old_block, new_block);
      return TRUE;

    case GAZE_MARKDOWN_BLOCK_RULE:
      return TRUE;

    case GAZE_MARKDOWN_BLOCK_DOCUMENT:
    case GAZE_MARKDOWN_BLOCK_LIST_ITEM:
    case GAZE_MARKDOWN_BLOCK_TABLE_ROW:
    case GAZE_MARKDOWN_BLOCK_TABLE_CELL:
    default:
      return FALSE;
    }
}

static void
append_child (GazeMarkdownView *self,
              GtkWidget        *parent,
              GtkWidget        *child)
{
  g_assert (GAZE_IS_MARKDOWN_VIEW (self));

  if (parent == GTK_WIDGET (self))
    gtk_widget_insert_before (child, parent, NULL);
  else
    gtk_box_append (GTK_BOX (parent), child);
}

static void
remove_child (GazeMarkdownView *self,
              GtkWidget        *parent,
              GtkWidget        *child)
{
  g_assert (GAZE_IS_MARKDOWN_VIEW (self));

  if (parent == GTK_WIDGET (self))
    gtk_widget_unparent (child);
  else
    gtk_box_remove (GTK_BOX (parent), child);
}

/* Makes @parent, which shows the children of @old_block (or nothing when
 * it is %NULL), show those of @new_block.
 */
static void
sync_children (GazeMarkdownView        *self,
               GtkWidget               *parent,
               const GazeMarkdownBlock *old_block,
               const GazeMarkdownBlock *new_block)
{
  guint n_old = n_child_blocks (old_block);
  guint n_new = n_child_blocks (new_block);
  guint first = count_equal_children (old_block, new_block);
  GtkWidget *child;

  g_assert (GAZE_IS_MARKDOWN_VIEW (self));

  if (first == n_old && first == n_new)
    return;

  child = gtk_widget_get_first_child (parent);
  for (guint i = 0; i < first && child != NULL; i++)
    child = gtk_widget_get_next_sibling (child);

  if (first < n_old && first < n_new && child != NULL &&
      update_block (self, child, child_block (old_block, first), child_block (new_block, first)))
    {
      first++;
      child = gtk_widget_get_next_sibling (child);
    }

  while (child != NULL)
    {
      GtkWidget *next = gtk_widget_get_next_sibling (child);

      remove_child (self, parent, child);
      child = next;
    }

  for (guint i = first; i < n_new; i++)
    append_child (self, parent, create_block (self, child_block (new_block, i)));
}

static void
gaze_markdown_view_dispose (GObject *object)
{
  GazeMarkdownView *self = (GazeMarkdownView *)object;
  GtkWidget *child;

  g_assert (GAZE_IS_MARKDOWN_VIEW (self));

  g_clear_handle_id (&self->copied_source, g_source_remove);
  g_clear_weak_pointer (&self->copied_button);

  gtk_widget_dispose_template (GTK_WIDGET (self), GAZE_TYPE_MARKDOWN_VIEW);

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))))
    gtk_widget_unparent (child);

  G_OBJECT_CLASS (gaze_markdown_view_parent_class)->dispose (object);
}

static void
gaze_markdown_view_finalize (GObject *object)
{
  GazeMarkdownView *self = (GazeMarkdownView *)object;

  g_assert (GAZE_IS_MARKDOWN_VIEW (self));

  g_clear_pointer (&self->text, g_free);
  g_clear_pointer (&self->document, gaze_markdown_document_unref);

  G_OBJECT_CLASS (gaze_markdown_view_parent_class)->finalize (object);
}

static void
gaze_markdown_view_get_property (GObject    *object,
                                 guint       prop_id,
                                 GValue     *value,
                                 GParamSpec *pspec)
{
  GazeMarkdownView *self = GAZE_MARKDOWN_VIEW (object);

  switch (prop_id)
    {
    case PROP_TEXT:
      g_value_set_string (value, gaze_markdown_view_get_text (self));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
gaze_markdown_view_set_property (GObject      *object,
                                 guint         prop_id,
                                 const GValue *value,
                                 GParamSpec   *pspec)
{
  GazeMarkdownView *self = GAZE_MARKDOWN_VIEW (object);

  switch (prop_id)
    {
    case PROP_TEXT:
      gaze_markdown_view_set_text (self, g_value_get_string (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
gaze_markdown_view_class_init (GazeMarkdownViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = gaze_markdown_view_dispose;
  object_class->finalize = gaze_markdown_view_finalize;
  object_class->get_property = gaze_markdown_view_get_property;
  object_class->set_property = gaze_markdown_view_set_property;

  /**
   * GazeMarkdownView:text:
   *
   * The answer, in Markdown. It may be set again and again as the answer
   * grows.
   */
  properties[PROP_TEXT] =
    g_param_spec_string ("text", NULL, NULL,
                         "",
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/gazeapp/Gaze/gaze-markdown-view.ui");
  gtk_widget_class_set_css_name (widget_class, "markdownview");
}

static void
gaze_markdown_view_init (GazeMarkdownView *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->text = g_strdup ("");
}

GtkWidget *
gaze_markdown_view_new (void)
{
  return g_object_new (GAZE_TYPE_MARKDOWN_VIEW, NULL);
}

const char *
gaze_markdown_view_get_text (GazeMarkdownView *self)
{
  g_return_val_if_fail (GAZE_IS_MARKDOWN_VIEW (self), NULL);

  return self->text;
}

/**
 * gaze_markdown_view_set_text:
 * @self: a #GazeMarkdownView
 * @text: (nullable): an answer in Markdown, as the model wrote it
 *
 * Shows @text. Call it as often as the answer grows: the widgets of the
 * blocks that stay the same are kept.
 */
void
gaze_markdown_view_set_text (GazeMarkdownView *self,
                             const char       *text)
{
  g_autoptr(GazeMarkdownDocument) document = NULL;

  g_return_if_fail (GAZE_IS_MARKDOWN_VIEW (self));

  if (text == NULL)
    text = "";

  if (g_strcmp0 (self->text, text) == 0)
    return;

  g_free (self->text);
  self->text = g_strdup (text);

  document = gaze_markdown_parse (text, strlen (text));
  sync_children (self, GTK_WIDGET (self),
                 self->document ? gaze_markdown_document_get_root (self->document) : NULL,
                 gaze_markdown_document_get_root (document));
  g_clear_pointer (&self->document, gaze_markdown_document_unref);
  self->document = g_steal_pointer (&document);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TEXT]);
}
