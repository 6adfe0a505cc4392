/* test-markdown-view.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The answer view under a display: the widgets it builds for each block,
 * the Copy button of a code block, links, and updates while an answer
 * streams in.
 */

#include "config.h"

#include <string.h>
#include <gtk/gtk.h>

#include "gaze-markdown-view.h"

static const char *answer =
  "## Result\n"
  "\n"
  "The **cat** is *grey* and `sleeping` on [a mat](https://e.org/mat), "
  "not [x](javascript:alert(1)).\n"
  "\n"
  "1. Ears\n"
  "   - left\n"
  "   - right\n"
  "2. Tail\n"
  "\n"
  "- [x] counted\n"
  "- [ ] named\n"
  "\n"
  "> A quote\n"
  "\n"
  "```python\n"
  "print(\"<cat> & dog\")\n"
  "print(2)\n"
  "```\n"
  "\n"
  "| Name | Count |\n"
  "|:-----|------:|\n"
  "| cats | 1 |\n"
  "\n"
  "---\n"
  "\n"
  "Done.";

static void
collect_widgets (GtkWidget *root,
                 GType      type,
                 GPtrArray *found)
{
  for (GtkWidget *child = gtk_widget_get_first_child (root);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      if (G_TYPE_CHECK_INSTANCE_TYPE (child, type))
        g_ptr_array_add (found, child);
      collect_widgets (child, type, found);
    }
}

static GPtrArray *
find_widgets (GtkWidget *root,
              GType      type)
{
  GPtrArray *found = g_ptr_array_new ();

  collect_widgets (root, type, found);

  return found;
}

/* The first label below @root with the CSS class @css_class. */
static GtkLabel *
find_label (GtkWidget  *root,
            const char *css_class)
{
  g_autoptr(GPtrArray) labels = find_widgets (root, GTK_TYPE_LABEL);

  for (guint i = 0; i < labels->len; i++)
    {
      if (gtk_widget_has_css_class (g_ptr_array_index (labels, i), css_class))
        return g_ptr_array_index (labels, i);
    }

  return NULL;
}

static GtkWidget *
nth_child (GtkWidget *parent,
           guint      n)
{
  GtkWidget *child = gtk_widget_get_first_child (parent);

  for (guint i = 0; i < n && child != NULL; i++)
    child = gtk_widget_get_next_sibling (child);

  return child;
}

/* The text of the label in a grid's cell. */
static const char *
label_text_at (GtkWidget *grid,
               int        column,
               int        row)
{
  GtkWidget *label = gtk_grid_get_child_at (GTK_GRID (grid), column, row);

  g_assert_true (GTK_IS_LABEL (label));

  return gtk_label_get_text (GTK_LABEL (label));
}

static guint
count_children (GtkWidget *parent)
{
  guint n = 0;

  for (GtkWidget *child = gtk_widget_get_first_child (parent);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    n++;

  return n;
}

/* Everything that shows of a widget tree, to compare two trees. */
static void
append_description (GString   *out,
                    GtkWidget *widget,
                    guint      indent)
{
  g_auto(GStrv) classes = gtk_widget_get_css_classes (widget);
  g_autofree char *joined = g_strjoinv (".", classes);

  for (guint i = 0; i < indent; i++)
    g_string_append (out, "  ");

  g_string_append_printf (out, "%s.%s", G_OBJECT_TYPE_NAME (widget), joined);

  if (GTK_IS_LABEL (widget))
    g_string_append_printf (out, " «%s» %.1f",
                            gtk_label_get_label (GTK_LABEL (widget)),
                            gtk_label_get_xalign (GTK_LABEL (widget)));
  else if (GTK_IS_CHECK_BUTTON (widget))
    g_string_append_printf (out, " active=%d",
                            gtk_check_button_get_active (GTK_CHECK_BUTTON (widget)));
  else if (GTK_IS_BUTTON (widget))
    g_string_append_printf (out, " %s", gtk_button_get_icon_name (GTK_BUTTON (widget)));

  if (GTK_IS_GRID (widget) && gtk_widget_get_parent (widget) != NULL)
    {
      int column, row, width, height;

      for (GtkWidget *child = gtk_widget_get_first_child (widget);
           child != NULL;
           child = gtk_widget_get_next_sibling (child))
        {
          gtk_grid_query_child (GTK_GRID (widget), child, &column, &row, &width, &height);
          g_string_append_printf (out, " (%d,%d)", column, row);
        }
    }

  g_string_append_c (out, '\n');

  /* Scrollbars and a label's selection popover come and go on their own. */
  if (GTK_IS_LABEL (widget) || GTK_IS_SCROLLBAR (widget) || GTK_IS_CHECK_BUTTON (widget))
    return;

  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    append_description (out, child, indent + 1);
}

static char *
describe (GtkWidget *widget)
{
  GString *out = g_string_new (NULL);

  append_description (out, widget, 0);

  return g_string_free (out, FALSE);
}

static GtkWidget *
create_view (void)
{
  return g_object_ref_sink (gaze_markdown_view_new ());
}

static void
test_markdown_view_blocks (void)
{
  GtkWidget *view = create_view ();
  GtkWidget *window = gtk_window_new ();
  g_autoptr(GPtrArray) markers = NULL;
  g_autoptr(GPtrArray) checks = NULL;
  g_autoptr(GPtrArray) cells = NULL;
  GtkWidget *child;
  GtkLabel *label;

  gtk_window_set_child (GTK_WINDOW (window), view);
  gtk_window_present (GTK_WINDOW (window));

  gaze_markdown_view_set_text (GAZE_MARKDOWN_VIEW (view), answer);
  g_assert_cmpstr (gaze_markdown_view_get_text (GAZE_MARKDOWN_VIEW (view)), ==, answer);

  while (g_main_context_iteration (NULL, FALSE));

  /* A widget for each block, in order. */
  g_assert_cmpuint (count_children (view), ==, 9);

  child = nth_child (view, 0);
  g_assert_true (GTK_IS_LABEL (child));
  g_assert_true (gtk_widget_has_css_class (child, "title-2"));
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (child)), ==, "Result");
  g_assert_cmpint (gtk_accessible_get_accessible_role (GTK_ACCESSIBLE (child)), ==,
                   GTK_ACCESSIBLE_ROLE_HEADING);

  child = nth_child (view, 1);
  g_assert_true (GTK_IS_LABEL (child));
  g_assert_true (gtk_label_get_use_markup (GTK_LABEL (child)));
  g_assert_true (gtk_label_get_selectable (GTK_LABEL (child)));
  g_assert_true (gtk_label_get_wrap (GTK_LABEL (child)));
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (child)), ==,
                   "The cat is grey and sleeping on a mat, not x.");
  g_assert_nonnull (strstr (gtk_label_get_label (GTK_LABEL (child)),
                            "<a href=\"https://e.org/mat\">a mat</a>"));
  g_assert_null (strstr (gtk_label_get_label (GTK_LABEL (child)), "javascript"));

  /* Lists: the markers in the first column, nested lists in the second. */
  child = nth_child (view, 2);
  g_assert_true (GTK_IS_GRID (child));
  g_assert_true (gtk_widget_has_css_class (child, "markdown-list"));
  g_assert_cmpstr (label_text_at (child, 0, 0), ==, "1.");
  g_assert_cmpstr (label_text_at (child, 0, 1), ==, "2.");
  markers = find_widgets (child, GTK_TYPE_LABEL);
  g_assert_cmpuint (markers->len, ==, 8);
  g_assert_cmpstr (gtk_label_get_text (g_ptr_array_index (markers, 2)), ==, "◦");
  g_assert_cmpstr (gtk_label_get_text (g_ptr_array_index (markers, 3)), ==, "left");

  child = nth_child (view, 3);
  checks = find_widgets (child, GTK_TYPE_CHECK_BUTTON);
  g_assert_cmpuint (checks->len, ==, 2);
  g_assert_true (gtk_check_button_get_active (g_ptr_array_index (checks, 0)));
  g_assert_false (gtk_check_button_get_active (g_ptr_array_index (checks, 1)));
  g_assert_false (gtk_widget_get_can_target (g_ptr_array_index (checks, 0)));

  child = nth_child (view, 4);
  g_assert_true (gtk_widget_has_css_class (child, "markdown-quote"));
  label = GTK_LABEL (gtk_widget_get_first_child (child));
  g_assert_cmpstr (gtk_label_get_text (label), ==, "A quote");

  /* The code is shown as it is, never as markup. */
  child = nth_child (view, 5);
  g_assert_true (gtk_widget_has_css_class (child, "card"));
  label = find_label (child, "code");
  g_assert_false (gtk_label_get_use_markup (label));
  g_assert_true (gtk_widget_has_css_class (GTK_WIDGET (label), "monospace"));
  g_assert_cmpstr (gtk_label_get_text (label), ==, "print(\"<cat> & dog\")\nprint(2)");
  g_assert_cmpstr (gtk_label_get_text (find_label (child, "caption")), ==, "python");

  child = nth_child (view, 6);
  g_assert_true (GTK_IS_GRID (child));
  cells = find_widgets (child, GTK_TYPE_LABEL);
  g_assert_cmpuint (cells->len, ==, 4);
  label = GTK_LABEL (gtk_grid_get_child_at (GTK_GRID (child), 1, 0));
  g_assert_cmpstr (gtk_label_get_text (label), ==, "Count");
  g_assert_true (gtk_widget_has_css_class (GTK_WIDGET (label), "head-cell"));
  g_assert_cmpfloat (gtk_label_get_xalign (label), ==, 1.0);
  label = GTK_LABEL (gtk_grid_get_child_at (GTK_GRID (child), 0, 1));
  g_assert_cmpstr (gtk_label_get_text (label), ==, "cats");
  g_assert_true (gtk_widget_has_css_class (GTK_WIDGET (label), "body-cell"));

  g_assert_true (GTK_IS_SEPARATOR (nth_child (view, 7)));
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (nth_child (view, 8))), ==, "Done.");

  /* An empty answer shows nothing. */
  gaze_markdown_view_set_text (GAZE_MARKDOWN_VIEW (view), NULL);
  g_assert_cmpstr (gaze_markdown_view_get_text (GAZE_MARKDOWN_VIEW (view)), ==, "");
  g_assert_null (gtk_widget_get_first_child (view));

  gtk_window_destroy (GTK_WINDOW (window));
  g_assert_finalize_object (view);
}

static void
read_text_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  char **text = user_data;
  g_autoptr(GError) error = NULL;

  *text = gdk_clipboard_read_text_finish (GDK_CLIPBOARD (object), result, &error);
  g_assert_no_error (error);
}

static void
test_markdown_view_copy (void)
{
  GtkWidget *view = create_view ();
  GtkWidget *window = gtk_window_new ();
  g_autoptr(GPtrArray) buttons = NULL;
  g_autofree char *copied = NULL;
  GtkWidget *button = NULL;

  gtk_window_set_child (GTK_WINDOW (window), view);
  gtk_window_present (GTK_WINDOW (window));
  gaze_markdown_view_set_text (GAZE_MARKDOWN_VIEW (view), answer);

  buttons = find_widgets (view, GTK_TYPE_BUTTON);
  for (guint i = 0; i < buttons->len; i++)
    {
      GtkWidget *candidate = g_ptr_array_index (buttons, i);

      if (g_strcmp0 (gtk_widget_get_tooltip_text (candidate), "Copy Code") == 0)
        button = candidate;
    }
  g_assert_nonnull (button);
  g_assert_cmpstr (gtk_button_get_icon_name (GTK_BUTTON (button)), ==, "edit-copy-symbolic");
  g_assert_true (gtk_widget_has_css_class (button, "flat"));

  gdk_clipboard_set_text (gtk_widget_get_clipboard (view), "something else");
  g_signal_emit_by_name (button, "clicked");

  gdk_clipboard_read_text_async (gtk_widget_get_clipboard (view), NULL, read_text_cb, &copied);
  while (copied == NULL)
    g_main_context_iteration (NULL, TRUE);

  g_assert_cmpstr (copied, ==, "print(\"<cat> & dog\")\nprint(2)");

  /* The button says for a moment that it copied. */
  g_assert_cmpstr (gtk_button_get_icon_name (GTK_BUTTON (button)), ==, "object-select-symbolic");

  /* The view goes while the check mark shows: nothing may be left behind. */
  gtk_window_destroy (GTK_WINDOW (window));
  g_assert_finalize_object (view);
}

static void
test_markdown_view_links (void)
{
  GtkWidget *view = create_view ();
  gboolean handled = FALSE;
  GtkWidget *label;

  gaze_markdown_view_set_text (GAZE_MARKDOWN_VIEW (view),
                               "[a](javascript:alert(1)) <b>not bold</b> [b](file:///etc/passwd)");

  label = gtk_widget_get_first_child (view);
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (label)), ==, "a <b>not bold</b> b");
  g_assert_null (strstr (gtk_label_get_label (GTK_LABEL (label)), "<a"));

  /* Were a link of another kind to reach the label, it would not open. */
  g_signal_emit_by_name (label, "activate-link", "javascript:alert(1)", &handled);
  g_assert_true (handled);

  g_assert_finalize_object (view);
}

static void
notify_cb (GObject    *object,
           GParamSpec *pspec,
           gpointer    user_data)
{
  (*(guint *)user_data)++;
}

static void
test_markdown_view_property (void)
{
  GtkWidget *view = create_view ();
  g_autofree char *text = NULL;
  guint notified = 0;

  g_signal_connect (view, "notify::text", G_CALLBACK (notify_cb), &notified);

  g_object_set (view, "text", "*a*", NULL);
  g_assert_cmpuint (notified, ==, 1);
  g_object_set (view, "text", "*a*", NULL);
  g_assert_cmpuint (notified, ==, 1);
  gaze_markdown_view_set_text (GAZE_MARKDOWN_VIEW (view), "*a* b");
  g_assert_cmpuint (notified, ==, 2);

  g_object_get (view, "text", &text, NULL);
  g_assert_cmpstr (text, ==, "*a* b");

  g_assert_finalize_object (view);
}

/* While an answer streams in, the view must look exactly like one built
 * from the whole text at once, and keep the widgets of the blocks before.
 */
static void
test_markdown_view_streaming (void)
{
  GtkWidget *view = create_view ();
  gsize len = strlen (answer);
  GtkWidget *heading = NULL;
  GtkWidget *list = NULL;
  GtkWidget *list_label = NULL;

  for (gsize i = 1; i <= len; i++)
    {
      g_autofree char *prefix = g_strndup (answer, i);
      GtkWidget *fresh = create_view ();
      g_autofree char *expected = NULL;
      g_autofree char *streamed = NULL;

      gaze_markdown_view_set_text (GAZE_MARKDOWN_VIEW (view), prefix);
      gaze_markdown_view_set_text (GAZE_MARKDOWN_VIEW (fresh), prefix);

      streamed = describe (view);
      expected = describe (fresh);
      g_assert_cmpstr (streamed, ==, expected);

      g_assert_finalize_object (fresh);

      /* Remember the widgets of blocks that are complete. */
      if (heading == NULL && g_str_has_prefix (prefix, "## Result\n\nThe"))
        g_set_weak_pointer (&heading, gtk_widget_get_first_child (view));

      if (list == NULL && g_str_has_suffix (prefix, "2. Tail\n"))
        {
          g_set_weak_pointer (&list, nth_child (view, 2));
          g_set_weak_pointer (&list_label, gtk_grid_get_child_at (GTK_GRID (list), 1, 0));
        }
    }

  g_assert_nonnull (heading);
  g_assert_true (gtk_widget_get_first_child (view) == heading);
  g_assert_nonnull (list);
  g_assert_true (nth_child (view, 2) == list);
  g_assert_nonnull (list_label);

  /* Text that shrinks or changes is shown too. */
  gaze_markdown_view_set_text (GAZE_MARKDOWN_VIEW (view), "- one\n- two");
  gaze_markdown_view_set_text (GAZE_MARKDOWN_VIEW (view), "1. one\n2. two");
  g_assert_cmpstr (label_text_at (gtk_widget_get_first_child (view), 0, 1), ==, "2.");
  g_assert_cmpuint (count_children (view), ==, 1);

  g_clear_weak_pointer (&heading);
  g_clear_weak_pointer (&list);
  g_clear_weak_pointer (&list_label);
  g_assert_finalize_object (view);
}

int
main (int   argc,
      char *argv[])
{
  gtk_test_init (&argc, &argv, NULL);

  g_test_add_func ("/markdown-view/blocks", test_markdown_view_blocks);
  g_test_add_func ("/markdown-view/copy", test_markdown_view_copy);
  g_test_add_func ("/markdown-view/links", test_markdown_view_links);
  g_test_add_func ("/markdown-view/property", test_markdown_view_property);
  g_test_add_func ("/markdown-view/streaming", test_markdown_view_streaming);

  return g_test_run ();
}
