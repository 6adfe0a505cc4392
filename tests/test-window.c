/* test-window.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Smoke tests of the real window under a display: the first-run page,
 * and a question with a photo sent to the loopback server.
 */

#include "config.h"

#include <string.h>
#include <adwaita.h>
#include <glib/gstdio.h>

#include "gaze-application.h"
#include "gaze-image-tile.h"
#include "gaze-preferences-window.h"
#include "gaze-test-server.h"
#include "gaze-turn-view.h"
#include "gaze-window.h"

static GazeApplication *app;

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

/* The nth widget of @type below @root, depth first. */
static GtkWidget *
find_widget (GtkWidget *root,
             GType      type,
             guint      nth)
{
  g_autoptr(GPtrArray) found = g_ptr_array_new ();

  collect_widgets (root, type, found);

  return nth < found->len ? g_ptr_array_index (found, nth) : NULL;
}

static GtkStack *
find_page_stack (GtkWidget *window)
{
  GtkWidget *stack;

  for (guint i = 0; (stack = find_widget (window, GTK_TYPE_STACK, i)); i++)
    {
      if (gtk_stack_get_child_by_name (GTK_STACK (stack), "setup") != NULL)
        return GTK_STACK (stack);
    }

  return NULL;
}

static void
wait_until (gboolean (*done) (gpointer),
            gpointer   data)
{
  gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;

  while (!done (data))
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, TRUE);
    }
}

static void
destroy_window (GtkWidget *window)
{
  g_object_add_weak_pointer (G_OBJECT (window), (gpointer *)&window);
  gtk_window_destroy (GTK_WINDOW (window));

  while (window != NULL)
    g_main_context_iteration (NULL, FALSE);
}

static void
reset_settings (void)
{
  GSettings *settings = gaze_application_get_settings (app);
  const char *keys[] = { "endpoint", "deployment", "api-key", "api-version", NULL };

  for (guint i = 0; keys[i]; i++)
    g_settings_reset (settings, keys[i]);
}

static void
test_window_first_run (void)
{
  GazeWindow *window;
  GtkStack *stack;

  reset_settings ();
  window = gaze_window_new (app);
  gtk_window_present (GTK_WINDOW (window));

  stack = find_page_stack (GTK_WIDGET (window));
  g_assert_nonnull (stack);
  g_assert_cmpstr (gtk_stack_get_visible_child_name (stack), ==, "setup");

  destroy_window (GTK_WIDGET (window));
}

static gboolean
tiles_ready (gpointer data)
{
  GtkWidget *tile = find_widget (data, GAZE_TYPE_IMAGE_TILE, 0);

  return tile != NULL && !gaze_image_tile_get_busy (GAZE_IMAGE_TILE (tile));
}

static gboolean
all_tiles_ready (gpointer data)
{
  GtkWidget *tile;

  for (guint i = 0; (tile = find_widget (data, GAZE_TYPE_IMAGE_TILE, i)); i++)
    {
      if (gaze_image_tile_get_busy (GAZE_IMAGE_TILE (tile)))
        return FALSE;
    }

  return TRUE;
}

static gboolean
answered (gpointer data)
{
  GtkWidget *turn = find_widget (data, GAZE_TYPE_TURN_VIEW, 0);

  return turn != NULL &&
         gaze_turn_view_get_answer (GAZE_TURN_VIEW (turn))[0] != '\0' &&
         !gaze_window_get_busy (data);
}

static gboolean
streaming (gpointer data)
{
  GtkWidget *turn = find_widget (data, GAZE_TYPE_TURN_VIEW, 0);

  return turn != NULL && gaze_turn_view_get_answer (GAZE_TURN_VIEW (turn))[0] != '\0';
}

static gboolean
error_shown (gpointer data)
{
  GtkWidget *window = data;
  GtkWidget *label = NULL;

  /* The error card holds the Retry button, shown with the card. */
  for (guint i = 0; (label = find_widget (window, GTK_TYPE_LABEL, i)); i++)
    {
      if (g_strcmp0 (gtk_label_get_label (GTK_LABEL (label)), "_Retry") == 0)
        break;
    }

  return label != NULL && gtk_widget_is_visible (label);
}

static char *
dup_prompt (GtkWidget *window)
{
  GtkTextView *view = GTK_TEXT_VIEW (find_widget (window, GTK_TYPE_TEXT_VIEW, 0));
  GtkTextIter start, end;

  gtk_text_buffer_get_bounds (gtk_text_view_get_buffer (view), &start, &end);

  return gtk_text_buffer_get_text (gtk_text_view_get_buffer (view), &start, &end, FALSE);
}

static void
test_window_ask (void)
{
  g_autoptr(GazeTestServer) server = gaze_test_server_new ();
  g_autofree char *endpoint = gaze_test_server_dup_endpoint (server);
  g_autofree char *path = g_test_build_filename (G_TEST_BUILT, "window-photo.png", NULL);
  g_autoptr(GdkPixbuf) pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, TRUE, 8, 3000, 2000);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GError) error = NULL;
  g_autofree char *prompt = NULL;
  GSettings *settings = gaze_application_get_settings (app);
  GazeWindow *window;
  GtkTextView *view;
  GtkStack *stack;
  GtkWidget *turn;
  int width, height;

  gdk_pixbuf_fill (pixbuf, 0x20a040ff);
  g_assert_true (gdk_pixbuf_save (pixbuf, path, "png", &error, NULL));

  g_settings_set_string (settings, "endpoint", endpoint);
  g_settings_set_string (settings, "deployment", "wrong-name");
  g_settings_set_string (settings, "api-key", GAZE_TEST_SERVER_KEY);

  window = gaze_window_new (app);
  gtk_window_present (GTK_WINDOW (window));
  stack = find_page_stack (GTK_WIDGET (window));
  g_assert_cmpstr (gtk_stack_get_visible_child_name (stack), ==, "chat");

  gaze_window_attach_file (window, file);
  g_assert_cmpuint (gaze_window_get_n_attachments (window), ==, 1);
  wait_until (tiles_ready, window);

  view = GTK_TEXT_VIEW (find_widget (GTK_WIDGET (window), GTK_TYPE_TEXT_VIEW, 0));
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (view), "What is in this picture?", -1);

  /* A wrong deployment: the sentence shows, the question and photo stay. */
  gtk_widget_activate_action (GTK_WIDGET (window), "win.send", NULL);
  wait_until (error_shown, window);
  prompt = dup_prompt (GTK_WIDGET (window));
  g_assert_cmpstr (prompt, ==, "What is in this picture?");
  g_assert_cmpuint (gaze_window_get_n_attachments (window), ==, 1);
  g_assert_null (find_widget (GTK_WIDGET (window), GAZE_TYPE_TURN_VIEW, 0));

  /* Fixed in the settings, Retry sends the same question again. */
  g_settings_set_string (settings, "deployment", GAZE_TEST_SERVER_DEPLOYMENT);
  gtk_widget_activate_action (GTK_WIDGET (window), "win.send", NULL);
  wait_until (answered, window);

  turn = find_widget (GTK_WIDGET (window), GAZE_TYPE_TURN_VIEW, 0);
  g_assert_nonnull (strstr (gaze_turn_view_get_answer (GAZE_TURN_VIEW (turn)), "1152 × 768"));
  g_assert_cmpuint (gaze_test_server_get_n_requests (server), ==, 2);
  gaze_test_server_get_last_image_size (server, 0, &width, &height);
  g_assert_cmpint (width, ==, 1152);
  g_assert_cmpint (height, ==, 768);

  /* After an answer the composer is empty for the next question. */
  g_clear_pointer (&prompt, g_free);
  prompt = dup_prompt (GTK_WIDGET (window));
  g_assert_cmpstr (prompt, ==, "");
  g_assert_cmpuint (gaze_window_get_n_attachments (window), ==, 0);

  destroy_window (GTK_WIDGET (window));
  g_unlink (path);
}

static gboolean
counting_down (gpointer data)
{
  GtkWidget *label;

  for (guint i = 0; (label = find_widget (data, GTK_TYPE_LABEL, i)); i++)
    {
      if (strstr (gtk_label_get_label (GTK_LABEL (label)), "Trying again in") != NULL)
        return TRUE;
    }

  return FALSE;
}

static void
test_window_rate_limit_retry (void)
{
  const char *headers[] = { "Retry-After: 1", NULL };
  g_autoptr(GazeTestServer) server = gaze_test_server_new ();
  g_autofree char *endpoint = gaze_test_server_dup_endpoint (server);
  GSettings *settings = gaze_application_get_settings (app);
  GazeWindow *window;
  GtkTextView *view;

  g_settings_set_string (settings, "endpoint", endpoint);
  g_settings_set_string (settings, "deployment", GAZE_TEST_SERVER_DEPLOYMENT);
  g_settings_set_string (settings, "api-key", GAZE_TEST_SERVER_KEY);

  window = gaze_window_new (app);
  gtk_window_present (GTK_WINDOW (window));
  view = GTK_TEXT_VIEW (find_widget (GTK_WIDGET (window), GTK_TYPE_TEXT_VIEW, 0));
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (view), "Hello", -1);

  /* Rate limited twice, then answered: the countdown shows, and Gaze
   * tries again by itself.
   */
  gaze_test_server_queue_reply (server, 429, "application/json",
                                "{\"error\":{\"code\":\"429\","
                                "\"message\":\"Rate limit is exceeded.\"}}",
                                headers);
  gaze_test_server_queue_reply (server, 429, "application/json",
                                "{\"error\":{\"code\":\"429\","
                                "\"message\":\"Rate limit is exceeded.\"}}",
                                headers);
  gtk_widget_activate_action (GTK_WIDGET (window), "win.send", NULL);
  wait_until (counting_down, window);
  wait_until (answered, window);
  g_assert_cmpuint (gaze_test_server_get_n_requests (server), ==, 3);

  /* A third refusal in a row is said, not retried. */
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (view), "Again", -1);
  for (guint i = 0; i < 3; i++)
    gaze_test_server_queue_reply (server, 429, "application/json",
                                  "{\"error\":{\"code\":\"429\","
                                  "\"message\":\"Rate limit is exceeded.\"}}",
                                  headers);
  gtk_widget_activate_action (GTK_WIDGET (window), "win.send", NULL);
  wait_until (error_shown, window);
  g_assert_cmpuint (gaze_test_server_get_n_requests (server), ==, 6);

  destroy_window (GTK_WIDGET (window));
}

static void
test_window_preferences (void)
{
  g_autoptr(GazeTestServer) server = gaze_test_server_new ();
  g_autofree char *endpoint = gaze_test_server_dup_endpoint (server);
  GSettings *settings = gaze_application_get_settings (app);
  GazePreferencesWindow *preferences;
  AdwActionRow *row = NULL;
  GtkWidget *widget;

  g_settings_set_string (settings, "endpoint", endpoint);
  g_settings_set_string (settings, "deployment", GAZE_TEST_SERVER_DEPLOYMENT);
  g_settings_set_string (settings, "api-key", GAZE_TEST_SERVER_KEY);

  preferences = gaze_preferences_window_new (settings, gaze_application_get_client (app));
  gtk_window_present (GTK_WINDOW (preferences));

  /* The rows show the settings. */
  widget = find_widget (GTK_WIDGET (preferences), ADW_TYPE_ENTRY_ROW, 0);
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (widget)), ==, endpoint);

  /* Test Connection asks the server and says so. */
  for (guint i = 0; (widget = find_widget (GTK_WIDGET (preferences), ADW_TYPE_ACTION_ROW, i)); i++)
    {
      if (g_strcmp0 (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (widget)),
                     "Test Connection") == 0)
        row = ADW_ACTION_ROW (widget);
    }
  g_assert_nonnull (row);

  gtk_widget_activate_action (GTK_WIDGET (preferences), "preferences.test-connection", NULL);
  while (!g_str_has_prefix (adw_action_row_get_subtitle (row), "Gaze reached"))
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (gaze_test_server_get_n_requests (server), ==, 1);
  g_assert_cmpint (gaze_test_server_get_last_max_tokens (server), ==, 1);

  /* And a wrong key in the sentence of the error. */
  g_settings_set_string (settings, "api-key", "wrong");
  gtk_widget_activate_action (GTK_WIDGET (preferences), "preferences.test-connection", NULL);
  while (strstr (adw_action_row_get_subtitle (row), "KEY 1") == NULL)
    g_main_context_iteration (NULL, TRUE);

  destroy_window (GTK_WIDGET (preferences));
}

static void
test_window_stop_keeps_partial (void)
{
  g_autoptr(GazeTestServer) server = gaze_test_server_new ();
  g_autofree char *endpoint = gaze_test_server_dup_endpoint (server);
  g_autofree char *prompt = NULL;
  GSettings *settings = gaze_application_get_settings (app);
  JsonNode *body;
  JsonArray *messages;
  GazeWindow *window;
  GtkTextView *view;
  GtkWidget *turn;
  g_autofree char *partial = NULL;

  g_settings_set_string (settings, "endpoint", endpoint);
  g_settings_set_string (settings, "deployment", GAZE_TEST_SERVER_DEPLOYMENT);
  g_settings_set_string (settings, "api-key", GAZE_TEST_SERVER_KEY);

  window = gaze_window_new (app);
  gtk_window_present (GTK_WINDOW (window));
  view = GTK_TEXT_VIEW (find_widget (GTK_WIDGET (window), GTK_TYPE_TEXT_VIEW, 0));

  /* A slow stream, stopped once some of it has arrived. */
  gaze_test_server_set_chunk_interval (server, 200);
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (view), "Tell me a long story", -1);
  gtk_widget_activate_action (GTK_WIDGET (window), "win.send", NULL);
  wait_until (streaming, window);
  gtk_widget_activate_action (GTK_WIDGET (window), "win.stop", NULL);

  /* At once: not busy, the partial answer kept and marked, the composer
   * empty for the next question.
   */
  g_assert_false (gaze_window_get_busy (window));
  turn = find_widget (GTK_WIDGET (window), GAZE_TYPE_TURN_VIEW, 0);
  partial = g_strdup (gaze_turn_view_get_answer (GAZE_TURN_VIEW (turn)));
  g_assert_cmpstr (partial, !=, "");
  prompt = dup_prompt (GTK_WIDGET (window));
  g_assert_cmpstr (prompt, ==, "");

  /* The follow-up carries the stopped answer as the assistant's turn. */
  gaze_test_server_set_chunk_interval (server, 0);
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (view), "And then?", -1);
  gtk_widget_activate_action (GTK_WIDGET (window), "win.send", NULL);
  while (gaze_window_get_busy (window))
    g_main_context_iteration (NULL, TRUE);

  body = gaze_test_server_get_last_body (server);
  messages = json_object_get_array_member (json_node_get_object (body), "messages");
  g_assert_cmpuint (json_array_get_length (messages), ==, 3);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (messages, 1),
                                                  "content"),
                   ==,
                   partial);

  destroy_window (GTK_WIDGET (window));
}

static void
test_window_detail_toggle (void)
{
  g_autofree char *path = g_test_build_filename (G_TEST_BUILT, "window-toggle.jpg", NULL);
  g_autoptr(GdkPixbuf) pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, 3000, 2000);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  GazeImageCache *cache = gaze_application_get_image_cache (app);
  GSettings *settings = gaze_application_get_settings (app);
  GtkToggleButton *low, *high;
  GazeImageTile *tile;
  GazeWindow *window;
  guint cached;

  gdk_pixbuf_fill (pixbuf, 0x406080ff);
  g_assert_true (gdk_pixbuf_save (pixbuf, path, "jpeg", NULL, NULL));
  g_settings_reset (settings, "detail");

  window = gaze_window_new (app);
  gtk_window_present (GTK_WINDOW (window));
  gaze_window_attach_file (window, file);
  wait_until (tiles_ready, window);

  tile = GAZE_IMAGE_TILE (find_widget (GTK_WIDGET (window), GAZE_TYPE_IMAGE_TILE, 0));
  low = GTK_TOGGLE_BUTTON (find_widget (GTK_WIDGET (tile), GTK_TYPE_TOGGLE_BUTTON, 0));
  high = GTK_TOGGLE_BUTTON (find_widget (GTK_WIDGET (tile), GTK_TYPE_TOGGLE_BUTTON, 1));

  /* The default, Automatic, is prepared as high detail: the toggle shows
   * High, and its tooltip says that it follows the default. Automatic is
   * what is sent.
   */
  g_assert_false (gtk_toggle_button_get_active (low));
  g_assert_true (gtk_toggle_button_get_active (high));
  g_assert_nonnull (strstr (gtk_widget_get_tooltip_text (GTK_WIDGET (high)), "“Automatic”"));
  g_assert_cmpint (gaze_image_get_detail (gaze_image_tile_get_image (tile)), ==, GAZE_DETAIL_AUTO);
  g_assert_cmpint (gaze_image_get_width (gaze_image_tile_get_image (tile)), ==, 1152);

  /* A click on the High it shows is a choice too: a later default of Low
   * leaves this photo at High. */
  g_signal_emit_by_name (high, "clicked");
  g_settings_set_string (settings, "detail", "low");
  g_assert_true (gtk_toggle_button_get_active (high));
  wait_until (tiles_ready, window);
  g_assert_cmpint (gaze_image_get_detail (gaze_image_tile_get_image (tile)), ==, GAZE_DETAIL_HIGH);
  g_settings_reset (settings, "detail");

  /* Choosing overrides it. */
  gtk_toggle_button_set_active (low, TRUE);
  g_assert_false (gtk_toggle_button_get_active (high));
  g_assert_null (strstr (gtk_widget_get_tooltip_text (GTK_WIDGET (high)), "Automatic"));
  wait_until (tiles_ready, window);
  g_assert_cmpint (gaze_image_get_width (gaze_image_tile_get_image (tile)), ==, 512);
  g_assert_cmpint (gaze_image_get_detail (gaze_image_tile_get_image (tile)), ==, GAZE_DETAIL_LOW);

  gtk_toggle_button_set_active (high, TRUE);
  wait_until (tiles_ready, window);
  g_assert_cmpint (gaze_image_get_width (gaze_image_tile_get_image (tile)), ==, 1152);
  g_assert_cmpint (gaze_image_get_detail (gaze_image_tile_get_image (tile)), ==, GAZE_DETAIL_HIGH);
  g_assert_null (strstr (gtk_widget_get_tooltip_text (GTK_WIDGET (high)), "Automatic"));

  /* Back to low: the cache has it, nothing is prepared again. */
  cached = gaze_image_cache_get_n_images (cache);
  gtk_toggle_button_set_active (low, TRUE);
  wait_until (tiles_ready, window);
  g_assert_cmpint (gaze_image_get_width (gaze_image_tile_get_image (tile)), ==, 512);
  g_assert_cmpuint (gaze_image_cache_get_n_images (cache), ==, cached);

  /* With Low as the default, a new photo shows Low. */
  g_settings_set_string (settings, "detail", "low");
  gaze_window_attach_file (window, file);
  tile = GAZE_IMAGE_TILE (find_widget (GTK_WIDGET (window), GAZE_TYPE_IMAGE_TILE, 1));
  low = GTK_TOGGLE_BUTTON (find_widget (GTK_WIDGET (tile), GTK_TYPE_TOGGLE_BUTTON, 0));
  high = GTK_TOGGLE_BUTTON (find_widget (GTK_WIDGET (tile), GTK_TYPE_TOGGLE_BUTTON, 1));
  g_assert_true (gtk_toggle_button_get_active (low));
  g_assert_false (gtk_toggle_button_get_active (high));
  wait_until (all_tiles_ready, window);
  g_assert_cmpint (gaze_image_get_width (gaze_image_tile_get_image (tile)), ==, 512);

  /* When the default changes, the photo that follows it is prepared
   * again; the one whose detail was picked keeps it. */
  g_settings_set_string (settings, "detail", "high");
  g_assert_false (gtk_toggle_button_get_active (low));
  g_assert_true (gtk_toggle_button_get_active (high));
  wait_until (all_tiles_ready, window);
  g_assert_cmpint (gaze_image_get_width (gaze_image_tile_get_image (tile)), ==, 1152);
  g_assert_cmpint (gaze_image_get_detail (gaze_image_tile_get_image (tile)), ==, GAZE_DETAIL_HIGH);
  tile = GAZE_IMAGE_TILE (find_widget (GTK_WIDGET (window), GAZE_TYPE_IMAGE_TILE, 0));
  g_assert_cmpint (gaze_image_get_detail (gaze_image_tile_get_image (tile)), ==, GAZE_DETAIL_LOW);
  g_settings_reset (settings, "detail");

  /* Ten photos at most: the eleventh is refused with a sentence, the ten
   * stay.
   */
  for (guint i = 0; i < GAZE_MAX_IMAGES_PER_REQUEST + 1; i++)
    gaze_window_attach_file (window, file);
  g_assert_cmpuint (gaze_window_get_n_attachments (window), ==, GAZE_MAX_IMAGES_PER_REQUEST);

  destroy_window (GTK_WIDGET (window));
  g_unlink (path);
}

static gboolean
second_answered (gpointer data)
{
  GtkWidget *turn = find_widget (data, GAZE_TYPE_TURN_VIEW, 1);

  return turn != NULL &&
         gaze_turn_view_get_answer (GAZE_TURN_VIEW (turn))[0] != '\0' &&
         !gaze_window_get_busy (data);
}

/* The label under the photos: the estimate, and what is left out. */
static GtkLabel *
find_estimate (GtkWidget *window)
{
  GtkWidget *label;

  for (guint i = 0; (label = find_widget (window, GTK_TYPE_LABEL, i)); i++)
    {
      if (gtk_widget_has_css_class (label, "numeric") &&
          gtk_widget_has_css_class (label, "caption") &&
          gtk_widget_get_ancestor (label, GAZE_TYPE_IMAGE_TILE) == NULL &&
          gtk_widget_get_ancestor (label, GAZE_TYPE_TURN_VIEW) == NULL)
        return GTK_LABEL (label);
    }

  return NULL;
}

static void
assert_estimate (GtkWidget  *window,
                 const char *left_out)
{
  GtkLabel *label = find_estimate (window);
  const char *text = gtk_label_get_label (label);

  if (left_out == NULL)
    {
      g_assert_null (strstr (text, "no longer sent"));
      g_assert_null (gtk_widget_get_tooltip_text (GTK_WIDGET (label)));
    }
  else
    {
      g_assert_nonnull (strstr (text, left_out));
      g_assert_true (gtk_widget_get_visible (GTK_WIDGET (label)));
      g_assert_nonnull (strstr (gtk_widget_get_tooltip_text (GTK_WIDGET (label)),
                                "at most 10 photos"));
    }
}

/* Two questions of six photos each: Azure takes ten photos per request,
 * earlier turns included, so the second leaves the two oldest out, names
 * them in their place, and the composer says so before it is sent.
 */
static void
test_window_earlier_photos (void)
{
  g_autoptr(GazeTestServer) server = gaze_test_server_new ();
  g_autofree char *endpoint = gaze_test_server_dup_endpoint (server);
  g_autofree char *body = NULL;
  GSettings *settings = gaze_application_get_settings (app);
  g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func (g_object_unref);
  GazeWindow *window;
  GtkTextView *view;

  for (guint i = 0; i < 6; i++)
    {
      g_autofree char *basename = g_strdup_printf ("window-earlier-%u.png", i);
      g_autofree char *path = g_test_build_filename (G_TEST_BUILT, basename, NULL);
      g_autoptr(GdkPixbuf) pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, 64 + i, 48);

      gdk_pixbuf_fill (pixbuf, 0x305070ff + (i << 24));
      g_assert_true (gdk_pixbuf_save (pixbuf, path, "png", NULL, NULL));
      g_ptr_array_add (files, g_file_new_for_path (path));
    }

  g_settings_set_string (settings, "endpoint", endpoint);
  g_settings_set_string (settings, "deployment", GAZE_TEST_SERVER_DEPLOYMENT);
  g_settings_set_string (settings, "api-key", GAZE_TEST_SERVER_KEY);

  window = gaze_window_new (app);
  gtk_window_present (GTK_WINDOW (window));
  view = GTK_TEXT_VIEW (find_widget (GTK_WIDGET (window), GTK_TYPE_TEXT_VIEW, 0));

  for (guint i = 0; i < files->len; i++)
    gaze_window_attach_file (window, g_ptr_array_index (files, i));
  wait_until (all_tiles_ready, window);
  assert_estimate (GTK_WIDGET (window), NULL);
  g_assert_nonnull (strstr (gtk_label_get_label (find_estimate (GTK_WIDGET (window))),
                            "tokens for the photos"));

  gtk_text_buffer_set_text (gtk_text_view_get_buffer (view), "What are these six?", -1);
  gtk_widget_activate_action (GTK_WIDGET (window), "win.send", NULL);
  wait_until (answered, window);
  g_assert_cmpuint (gaze_test_server_get_last_n_images (server), ==, 6);

  /* Six earlier photos and none attached: nothing to say. */
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (find_estimate (GTK_WIDGET (window)))));

  /* Five more leave one out, six leave two. */
  for (guint i = 0; i < 5; i++)
    gaze_window_attach_file (window, g_ptr_array_index (files, i));
  wait_until (all_tiles_ready, window);
  assert_estimate (GTK_WIDGET (window), "1 earlier photo is no longer sent");
  gaze_window_attach_file (window, g_ptr_array_index (files, 5));
  assert_estimate (GTK_WIDGET (window), "2 earlier photos are no longer sent");
  wait_until (all_tiles_ready, window);
  assert_estimate (GTK_WIDGET (window), "2 earlier photos are no longer sent");
  g_assert_nonnull (strstr (gtk_label_get_label (find_estimate (GTK_WIDGET (window))),
                            "tokens for the photos"));

  /* Sent, the server (which refuses an eleventh image, like Azure) gets
   * ten, and the first two photos' names.
   */
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (view), "And these six?", -1);
  gtk_widget_activate_action (GTK_WIDGET (window), "win.send", NULL);
  wait_until (second_answered, window);
  g_assert_false (error_shown (window));
  g_assert_cmpuint (gaze_test_server_get_n_requests (server), ==, 2);
  g_assert_cmpuint (gaze_test_server_get_last_n_images (server), ==, GAZE_MAX_IMAGES_PER_REQUEST);

  body = json_to_string (gaze_test_server_get_last_body (server), FALSE);
  g_assert_nonnull (strstr (body, "[The photo \\\"window-earlier-0.png\\\" was shown earlier"));
  g_assert_nonnull (strstr (body, "[The photo \\\"window-earlier-1.png\\\" was shown earlier"));
  g_assert_null (strstr (body, "[The photo \\\"window-earlier-2.png\\\""));
  g_assert_nonnull (strstr (body, "\"What are these six?\""));

  /* Twelve earlier photos: the next question, even without photos, leaves
   * two out.
   */
  assert_estimate (GTK_WIDGET (window), "2 earlier photos are no longer sent");
  g_assert_null (strstr (gtk_label_get_label (find_estimate (GTK_WIDGET (window))), "tokens"));

  /* A new conversation starts afresh. */
  gtk_widget_activate_action (GTK_WIDGET (window), "win.new-conversation", NULL);
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (find_estimate (GTK_WIDGET (window)))));

  destroy_window (GTK_WIDGET (window));
  for (guint i = 0; i < files->len; i++)
    g_file_delete (g_ptr_array_index (files, i), NULL, NULL);
}

static void
test_window_close_while_asking (void)
{
  g_autoptr(GazeTestServer) server = gaze_test_server_new ();
  g_autofree char *endpoint = gaze_test_server_dup_endpoint (server);
  GSettings *settings = gaze_application_get_settings (app);
  GazeWindow *window;
  GtkTextView *view;
  gint64 until;

  g_settings_set_string (settings, "endpoint", endpoint);
  g_settings_set_string (settings, "deployment", GAZE_TEST_SERVER_DEPLOYMENT);
  g_settings_set_string (settings, "api-key", GAZE_TEST_SERVER_KEY);
  gaze_test_server_set_delay (server, 2000);

  window = gaze_window_new (app);
  gtk_window_present (GTK_WINDOW (window));
  view = GTK_TEXT_VIEW (find_widget (GTK_WIDGET (window), GTK_TYPE_TEXT_VIEW, 0));
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (view), "Slow question", -1);
  gtk_widget_activate_action (GTK_WIDGET (window), "win.send", NULL);
  g_assert_true (gaze_window_get_busy (window));

  /* Closing cancels the request; the window goes away at once, and the
   * late callback finds nothing to touch.
   */
  destroy_window (GTK_WIDGET (window));
  until = g_get_monotonic_time () + 300 * G_TIME_SPAN_MILLISECOND;
  while (g_get_monotonic_time () < until)
    g_main_context_iteration (NULL, FALSE);

  gaze_test_server_set_delay (server, 0);
}

static void
activate_cb (GApplication *application)
{
  /* The tests create their own windows. */
}

static void
run_tests_cb (GApplication *application,
              int          *status)
{
  g_application_hold (application);
  *status = g_test_run ();
  g_application_release (application);
  g_application_quit (application);
}

int
main (int   argc,
      char *argv[])
{
  int status = 0;

  gtk_test_init (&argc, &argv, NULL);

  app = gaze_application_new ();
  g_application_set_flags (G_APPLICATION (app), G_APPLICATION_NON_UNIQUE);
  g_signal_connect (app, "activate", G_CALLBACK (activate_cb), NULL);
  g_signal_connect_after (app, "startup", G_CALLBACK (run_tests_cb), &status);

  g_test_add_func ("/window/first-run", test_window_first_run);
  g_test_add_func ("/window/ask", test_window_ask);
  g_test_add_func ("/window/rate-limit-retry", test_window_rate_limit_retry);
  g_test_add_func ("/window/preferences", test_window_preferences);
  g_test_add_func ("/window/stop-keeps-partial", test_window_stop_keeps_partial);
  g_test_add_func ("/window/detail-toggle", test_window_detail_toggle);
  g_test_add_func ("/window/earlier-photos", test_window_earlier_photos);
  g_test_add_func ("/window/close-while-asking", test_window_close_while_asking);

  g_application_run (G_APPLICATION (app), 0, NULL);
  g_object_unref (app);

  return status;
}
