/* gaze-window.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "gaze-window"

#include "config.h"

#include <string.h>
#include <glib/gi18n.h>

#include "gaze-conversation.h"
#include "gaze-endpoint.h"
#include "gaze-tokens.h"
#include "gaze-image-tile.h"
#include "gaze-turn-view.h"
#include "gaze-window.h"

/* A question on its way: what was asked, what is sent, and where it stands
 * between automatic retries.
 */
typedef struct
{
  GCancellable *cancellable;
  GazeTurnView *turn;
  char         *draft;
  GPtrArray    *tiles;
  char         *question;
  GPtrArray    *images;
  GazeEndpoint *endpoint;
  char         *api_key;
  GazeRequest  *request;
  guint         attempt;
  guint         countdown_id;
  gint64        retry_at;
  GError       *error;
} Pending;

static void
pending_free (Pending *pending)
{
  g_cancellable_cancel (pending->cancellable);
  g_clear_object (&pending->cancellable);
  g_clear_handle_id (&pending->countdown_id, g_source_remove);
  g_free (pending->draft);
  g_clear_pointer (&pending->tiles, g_ptr_array_unref);
  g_free (pending->question);
  g_clear_pointer (&pending->images, g_ptr_array_unref);
  g_clear_pointer (&pending->endpoint, gaze_endpoint_free);
  g_free (pending->api_key);
  g_clear_object (&pending->request);
  g_clear_error (&pending->error);
  g_free (pending);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Pending, pending_free)

struct _GazeWindow
{
  AdwApplicationWindow  parent_instance;

  GSettings            *settings;
  GazeClient           *client;
  GazeImageCache       *image_cache;
  GazeConversation     *conversation;

  /* The question in flight, or NULL. */
  Pending              *pending;

  /* Everything else the window waits for (downloads, pastes, exports);
   * cancelled when it closes.
   */
  GCancellable         *cancellable;

  /* The conversation follows a growing answer while it is scrolled to
   * its end; scrolling up to read stops that.
   */
  gboolean              stick_to_end;

  /* The last answer was cut at the longest answer allowed. */
  gboolean              can_continue;

  AdwToastOverlay      *toast_overlay;
  AdwWindowTitle       *window_title;
  GtkStack             *stack;
  GtkWidget            *attach_button;
  GtkWidget            *new_button;
  AdwEntryRow          *setup_endpoint_row;
  AdwEntryRow          *setup_deployment_row;
  AdwPasswordEntryRow  *setup_key_row;
  AdwEntryRow          *setup_api_version_row;
  GtkLabel             *setup_error_label;
  GtkScrolledWindow    *scroller;
  AdwStatusPage        *empty_page;
  GtkBox               *turns_box;
  GtkBox               *error_box;
  GtkLabel             *error_title;
  GtkLabel             *error_label;
  GtkExpander          *error_details;
  GtkLabel             *error_details_label;
  GtkButton            *error_preferences_button;
  GtkWidget            *drop_highlight;
  GtkRevealer          *attachments_revealer;
  GtkBox               *attachments_box;
  GtkLabel             *estimate_label;
  GtkTextView          *prompt_view;
  GtkWidget            *prompt_placeholder;
  GtkStack             *send_stack;
};

G_DEFINE_FINAL_TYPE (GazeWindow, gaze_window, ADW_TYPE_APPLICATION_WINDOW)

static void gaze_window_update_actions (GazeWindow *self);
static void gaze_window_show_page      (GazeWindow *self,
                                        const char *name);

static gboolean
gaze_window_is_running (GazeWindow *self)
{
  g_assert (GAZE_IS_WINDOW (self));

  return self->pending != NULL;
}

static char *
gaze_window_dup_buffer_text (GazeWindow *self)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->prompt_view);
  GtkTextIter start, end;

  g_assert (GAZE_IS_WINDOW (self));

  gtk_text_buffer_get_bounds (buffer, &start, &end);

  return gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
}

static char *
gaze_window_dup_prompt (GazeWindow *self)
{
  g_assert (GAZE_IS_WINDOW (self));

  return g_strstrip (gaze_window_dup_buffer_text (self));
}

static guint
gaze_window_count_tiles (GazeWindow *self,
                         guint      *n_busy)
{
  guint n = 0;

  g_assert (GAZE_IS_WINDOW (self));

  if (n_busy != NULL)
    *n_busy = 0;

  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self->attachments_box));
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      n++;
      if (n_busy != NULL && gaze_image_tile_get_busy (GAZE_IMAGE_TILE (child)))
        (*n_busy)++;
    }

  return n;
}

static GPtrArray *
gaze_window_collect_images (GazeWindow *self)
{
  GPtrArray *images = g_ptr_array_new_with_free_func (g_object_unref);

  g_assert (GAZE_IS_WINDOW (self));

  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self->attachments_box));
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GazeImage *image = gaze_image_tile_get_image (GAZE_IMAGE_TILE (child));

      if (image != NULL)
        g_ptr_array_add (images, g_object_ref (image));
    }

  return images;
}

static void
gaze_window_update_empty_state (GazeWindow *self)
{
  gboolean has_turns = gtk_widget_get_first_child (GTK_WIDGET (self->turns_box)) != NULL;
  gboolean has_error = gtk_widget_get_visible (GTK_WIDGET (self->error_box));
  guint n_tiles = gaze_window_count_tiles (self, NULL);

  g_assert (GAZE_IS_WINDOW (self));

  gtk_widget_set_visible (GTK_WIDGET (self->empty_page), !has_turns && !has_error);

  if (n_tiles > 0)
    {
      adw_status_page_set_title (self->empty_page, _("Ask About Your Photos"));
      adw_status_page_set_description (self->empty_page,
                                       _("Type a question below and press Enter."));
    }
  else
    {
      adw_status_page_set_title (self->empty_page, _("Drop Photos Here"));
      adw_status_page_set_description (self->empty_page,
                                       _("Drag photos from Files or a web browser, paste them "
                                         "with Ctrl+V, or choose them with Open. Then ask about "
                                         "them below."));
    }
  gtk_widget_set_visible (GTK_WIDGET (self->turns_box), has_turns);
  gtk_revealer_set_reveal_child (self->attachments_revealer, n_tiles > 0);
}

/* What the photos of the next question will cost, by the service's rule,
 * and how large they make the request; said before anything is sent. Below
 * it, quietly, how many photos of earlier questions no longer go with it:
 * the service takes ten per request, and every request carries the
 * conversation again.
 */
static void
gaze_window_update_estimate (GazeWindow *self)
{
  g_autoptr(GPtrArray) images = gaze_window_collect_images (self);
  g_autoptr(GString) text = g_string_new (NULL);
  guint n_left_out;

  g_assert (GAZE_IS_WINDOW (self));

  if (images->len > 0)
    {
      g_autofree char *size = NULL;
      guint64 bytes = 0;
      guint tokens;

      for (guint i = 0; i < images->len; i++)
        {
          GBytes *jpeg = gaze_image_get_jpeg (g_ptr_array_index (images, i));

          bytes += (g_bytes_get_size (jpeg) + 2) / 3 * 4;
        }

      tokens = gaze_tokens_for_images (images);
      size = g_format_size (bytes);
      g_string_append_printf (text,
                              /* Translators: an estimate before sending, e.g.
                               * "About 1105 tokens for the photos · 412.3 kB" */
                              g_dngettext (GETTEXT_PACKAGE,
                                           "About %u token for the photos · %s",
                                           "About %u tokens for the photos · %s",
                                           tokens),
                              tokens, size);
    }

  /* Photos still being prepared count too, so that the line does not
   * change when they are ready.
   */
  n_left_out = gaze_conversation_count_images_left_out (self->conversation,
                                                        gaze_window_count_tiles (self, NULL));
  if (n_left_out > 0)
    {
      g_autofree char *why = NULL;

      if (text->len > 0)
        g_string_append_c (text, '\n');
      g_string_append_printf (text,
                              /* Translators: under the photos of the next question; the
                               * oldest photos of the conversation are no longer sent */
                              g_dngettext (GETTEXT_PACKAGE,
                                           "%u earlier photo is no longer sent",
                                           "%u earlier photos are no longer sent",
                                           n_left_out),
                              n_left_out);

      why = g_strdup_printf (_("Azure OpenAI takes at most %d photos with a question, counting "
                               "those of earlier questions. The oldest are named instead, and "
                               "what was said about them stays."),
                             GAZE_MAX_IMAGES_PER_REQUEST);
      gtk_widget_set_tooltip_text (GTK_WIDGET (self->estimate_label), why);
    }
  else
    {
      gtk_widget_set_tooltip_text (GTK_WIDGET (self->estimate_label), NULL);
    }

  gtk_label_set_label (self->estimate_label, text->str);
  gtk_widget_set_visible (GTK_WIDGET (self->estimate_label), text->len > 0);
}

static void
gaze_window_update_actions (GazeWindow *self)
{
  g_autofree char *prompt = gaze_window_dup_prompt (self);
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->prompt_view);
  gboolean running = gaze_window_is_running (self);
  guint n_busy;
  guint n_tiles = gaze_window_count_tiles (self, &n_busy);
  guint n_turns = gaze_conversation_get_n_turns (self->conversation);
  gboolean has_something = prompt[0] != '\0' || n_tiles > 0;
  gboolean chat = g_strcmp0 (gtk_stack_get_visible_child_name (self->stack), "chat") == 0;

  g_assert (GAZE_IS_WINDOW (self));

  /* On the setup page, only setting up works. */
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.attach", chat);
  gtk_widget_action_set_enabled (GTK_WIDGET (self),
                                 "win.send",
                                 chat && !running && has_something && n_busy == 0);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.stop", running);
  gtk_widget_action_set_enabled (GTK_WIDGET (self),
                                 "win.new-conversation",
                                 chat && !running && n_turns > 0);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.export", n_turns > 0);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.continue", !running && self->can_continue);

  gaze_window_update_estimate (self);

  gtk_stack_set_visible_child_name (self->send_stack, running ? "stop" : "send");
  gtk_widget_set_visible (self->prompt_placeholder, gtk_text_buffer_get_char_count (buffer) == 0);
}

static void
gaze_window_toast (GazeWindow *self,
                   const char *message)
{
  AdwToast *toast = adw_toast_new (message);

  g_assert (GAZE_IS_WINDOW (self));

  adw_toast_set_timeout (toast, 10);
  adw_toast_set_priority (toast, ADW_TOAST_PRIORITY_HIGH);
  adw_toast_overlay_add_toast (self->toast_overlay, toast);
}

static void
gaze_window_hide_error (GazeWindow *self)
{
  g_assert (GAZE_IS_WINDOW (self));

  gtk_widget_set_visible (GTK_WIDGET (self->error_box), FALSE);
}

static const char *
error_title_for (const GError *error)
{
  if (error->domain == GAZE_ENDPOINT_ERROR)
    return _("Check the Connection Settings");

  if (error->domain != GAZE_CLIENT_ERROR)
    return _("Something Went Wrong");

  switch ((GazeClientError)error->code)
    {
    case GAZE_CLIENT_ERROR_UNAUTHORIZED:
      return _("Key Not Accepted");
    case GAZE_CLIENT_ERROR_FORBIDDEN:
      return _("No Access to the Resource");
    case GAZE_CLIENT_ERROR_DEPLOYMENT_NOT_FOUND:
      return _("Deployment Not Found");
    case GAZE_CLIENT_ERROR_ENDPOINT_NOT_FOUND:
      return _("Endpoint Not Found");
    case GAZE_CLIENT_ERROR_RATE_LIMITED:
      return _("Too Many Requests");
    case GAZE_CLIENT_ERROR_CONTENT_FILTERED:
      return _("Blocked by the Content Filter");
    case GAZE_CLIENT_ERROR_BAD_REQUEST:
      return _("Request Refused");
    case GAZE_CLIENT_ERROR_SERVER_ERROR:
      return _("Azure OpenAI Had a Problem");
    case GAZE_CLIENT_ERROR_NETWORK:
      return _("No Connection");
    case GAZE_CLIENT_ERROR_TLS:
      return _("Connection Not Secure");
    case GAZE_CLIENT_ERROR_TIMEOUT:
      return _("No Answer");
    case GAZE_CLIENT_ERROR_UNREADABLE_REPLY:
      return _("Unreadable Reply");
    case GAZE_CLIENT_ERROR_HTTP:
    default:
      return _("Something Went Wrong");
    }
}

static gboolean
error_is_about_settings (const GError *error)
{
  return error->domain == GAZE_ENDPOINT_ERROR ||
         g_error_matches (error, GAZE_CLIENT_ERROR, GAZE_CLIENT_ERROR_UNAUTHORIZED) ||
         g_error_matches (error, GAZE_CLIENT_ERROR, GAZE_CLIENT_ERROR_FORBIDDEN) ||
         g_error_matches (error, GAZE_CLIENT_ERROR, GAZE_CLIENT_ERROR_DEPLOYMENT_NOT_FOUND) ||
         g_error_matches (error, GAZE_CLIENT_ERROR, GAZE_CLIENT_ERROR_ENDPOINT_NOT_FOUND) ||
         g_error_matches (error, GAZE_CLIENT_ERROR, GAZE_CLIENT_ERROR_TLS);
}

static void
gaze_window_show_error (GazeWindow   *self,
                        const GError *error)
{
  const char *request_id = NULL;

  g_assert (GAZE_IS_WINDOW (self));

  if (error->domain == GAZE_CLIENT_ERROR)
    request_id = gaze_client_error_get_request_id (error);

  gtk_label_set_label (self->error_title, error_title_for (error));
  gtk_label_set_label (self->error_label, error->message);

  if (request_id != NULL)
    {
      /* Translators: shown under an error, so that support can find the request */
      g_autofree char *details = g_strdup_printf (_("Request ID: %s"), request_id);

      gtk_label_set_label (self->error_details_label, details);
    }
  gtk_widget_set_visible (GTK_WIDGET (self->error_details), request_id != NULL);
  gtk_expander_set_expanded (self->error_details, FALSE);

  gtk_widget_set_visible (GTK_WIDGET (self->error_preferences_button),
                          error_is_about_settings (error));
  gtk_widget_set_visible (GTK_WIDGET (self->error_box), TRUE);
  gaze_window_update_empty_state (self);
}

static void
gaze_window_scroll_to_end (GazeWindow *self)
{
  GtkAdjustment *adjustment = gtk_scrolled_window_get_vadjustment (self->scroller);

  g_assert (GAZE_IS_WINDOW (self));

  gtk_adjustment_set_value (adjustment, gtk_adjustment_get_upper (adjustment));
}

static void
gaze_window_scrolled_cb (GazeWindow    *self,
                         GtkAdjustment *adjustment)
{
  double end = gtk_adjustment_get_upper (adjustment) - gtk_adjustment_get_page_size (adjustment);

  g_assert (GAZE_IS_WINDOW (self));
  g_assert (GTK_IS_ADJUSTMENT (adjustment));

  self->stick_to_end = gtk_adjustment_get_value (adjustment) >= end - 24;
}

static void
gaze_window_grown_cb (GazeWindow    *self,
                      GParamSpec    *pspec,
                      GtkAdjustment *adjustment)
{
  g_assert (GAZE_IS_WINDOW (self));
  g_assert (GTK_IS_ADJUSTMENT (adjustment));

  if (self->stick_to_end && self->pending != NULL)
    gaze_window_scroll_to_end (self);
}

static char *
dup_answer_note (const GazeReply *reply)
{
  if (reply->truncated)
    return g_strdup (_("The connection ended before the answer was finished."));

  if (g_strcmp0 (reply->finish_reason, "length") == 0)
    return g_strdup (_("The answer was cut off at the longest answer set in Preferences."));

  return gaze_reply_dup_filter_note (reply);
}

static void gaze_window_dispatch (GazeWindow *self);

/* The question failed or was stopped: the turn goes, the question and the
 * photos stay in the composer, and Retry sends the same again.
 */
static void
gaze_window_abandon (GazeWindow   *self,
                     const GError *error)
{
  g_autoptr(Pending) pending = g_steal_pointer (&self->pending);

  g_assert (GAZE_IS_WINDOW (self));
  g_assert (pending != NULL);

  gtk_box_remove (self->turns_box, GTK_WIDGET (pending->turn));

  /* What was typed since goes after the question given back. */
  {
    GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->prompt_view);
    GtkTextIter start;

    gtk_text_buffer_get_start_iter (buffer, &start);
    gtk_text_buffer_insert (buffer, &start, pending->draft, -1);
  }

  for (guint i = 0; i < pending->tiles->len; i++)
    {
      GtkWidget *tile = g_ptr_array_index (pending->tiles, i);
      GtkWidget *before = i == 0 ? NULL : g_ptr_array_index (pending->tiles, i - 1);

      gtk_box_insert_child_after (self->attachments_box, tile, before);
    }

  if (error != NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    gaze_window_show_error (self, error);

  gaze_window_update_empty_state (self);
  gaze_window_update_actions (self);
}

static void
gaze_window_update_countdown (GazeWindow *self)
{
  Pending *pending = self->pending;
  gint64 left_ms = MAX (0, (pending->retry_at - g_get_monotonic_time ()) / 1000);
  g_autofree char *wait = gaze_client_format_wait (left_ms);
  g_autofree char *status = NULL;

  g_assert (GAZE_IS_WINDOW (self));

  /* Translators: shown while Gaze waits to send a question again, e.g.
   * "Too Many Requests. Trying again in 7 seconds…" */
  status = g_strdup_printf (_("%s. Trying again in %s…"), error_title_for (pending->error), wait);
  gaze_turn_view_set_status (pending->turn, status);
}

static gboolean
gaze_window_countdown_cb (gpointer user_data)
{
  GazeWindow *self = user_data;
  Pending *pending = self->pending;

  g_assert (GAZE_IS_WINDOW (self));
  g_assert (pending != NULL);

  if (g_get_monotonic_time () < pending->retry_at)
    {
      gaze_window_update_countdown (self);
      return G_SOURCE_CONTINUE;
    }

  pending->countdown_id = 0;
  pending->attempt++;
  gaze_turn_view_set_status (pending->turn, NULL);
  gaze_window_dispatch (self);

  return G_SOURCE_REMOVE;
}

/* The answer arrived: it joins the conversation, and the next question
 * is sent with it.
 */
static void
gaze_window_keep_answer (GazeWindow *self,
                         const char *answer,
                         const char *note,
                         gboolean    can_continue,
                         gint64      prompt_tokens,
                         gint64      completion_tokens)
{
  Pending *pending = self->pending;

  g_assert (GAZE_IS_WINDOW (self));
  g_assert (pending != NULL);

  gaze_turn_view_set_answer (pending->turn, answer, note);
  gaze_turn_view_set_finished (pending->turn, can_continue, prompt_tokens, completion_tokens);
  self->can_continue = can_continue;
  gaze_conversation_add_turn (self->conversation, pending->question, pending->images, answer);
  g_clear_pointer (&self->pending, pending_free);

  gaze_window_update_empty_state (self);
  gaze_window_update_actions (self);
  gtk_widget_grab_focus (GTK_WIDGET (self->prompt_view));
}

static void
gaze_window_stream_cb (GObject      *object,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  g_autoptr(GazeWindow) self = user_data;
  g_autoptr(GazeReply) reply = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *note = NULL;
  Pending *pending = self->pending;
  const char *partial;
  gint64 delay_ms;

  g_assert (GAZE_IS_WINDOW (self));
  g_assert (GAZE_IS_CLIENT (object));
  g_assert (G_IS_TASK (result));

  reply = gaze_client_stream_finish (GAZE_CLIENT (object), result, &error);

  /* The question was stopped, or the window closed, while this ran. */
  if (pending == NULL || g_task_get_cancellable (G_TASK (result)) != pending->cancellable)
    return;

  if (reply != NULL)
    {
      note = dup_answer_note (reply);
      gaze_window_keep_answer (self, reply->content, note,
                               g_strcmp0 (reply->finish_reason, "length") == 0,
                               reply->prompt_tokens, reply->completion_tokens);
      return;
    }

  partial = gaze_turn_view_get_answer (pending->turn);

  if (partial[0] == '\0' && gaze_client_error_should_retry (error, pending->attempt, &delay_ms))
    {
      /* Say what happened and count down; Stop cancels the wait. */
      g_clear_error (&pending->error);
      pending->error = g_steal_pointer (&error);
      pending->retry_at = g_get_monotonic_time () + delay_ms * 1000;
      pending->countdown_id = g_timeout_add (250, gaze_window_countdown_cb, self);
      gaze_window_update_countdown (self);
      return;
    }

  if (partial[0] != '\0')
    {
      /* What arrived stays readable, but a broken answer is not sent
       * again as if it were whole: Retry asks the question anew.
       */
      GazeTurnView *turn = g_object_ref (pending->turn);

      note = g_strdup_printf (_("The answer broke off: %s"), error->message);
      gaze_turn_view_set_answer (turn, partial, note);
      gaze_window_abandon (self, error);
      gtk_box_append (self->turns_box, GTK_WIDGET (turn));
      g_object_unref (turn);
      gaze_window_update_empty_state (self);
      return;
    }

  gaze_window_abandon (self, error);
}

static void
gaze_window_append_delta (const char *delta,
                          gpointer    user_data)
{
  g_assert (GAZE_IS_TURN_VIEW (user_data));

  gaze_turn_view_append (GAZE_TURN_VIEW (user_data), delta);
}

static void
gaze_window_dispatch (GazeWindow *self)
{
  Pending *pending = self->pending;

  g_assert (GAZE_IS_WINDOW (self));
  g_assert (pending != NULL);

  gaze_client_stream_async (self->client,
                            pending->endpoint,
                            pending->api_key,
                            pending->request,
                            gaze_window_append_delta,
                            g_object_ref (pending->turn),
                            g_object_unref,
                            pending->cancellable,
                            gaze_window_stream_cb,
                            g_object_ref (self));
}

static gboolean
gaze_window_scroll_to_end_cb (gpointer user_data)
{
  GazeWindow *self = user_data;

  g_assert (GAZE_IS_WINDOW (self));

  gaze_window_scroll_to_end (self);

  return G_SOURCE_REMOVE;
}

/* Sends @question with @images, and the conversation so far. From the
 * composer, what it holds moves into the conversation while the question
 * is asked, and comes back if it fails.
 */
static void
gaze_window_ask (GazeWindow *self,
                 const char *question,
                 GPtrArray  *images,
                 gboolean    from_composer)
{
  g_autoptr(GazeEndpoint) endpoint = NULL;
  g_autoptr(GazeRequest) request = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *endpoint_text = NULL;
  g_autofree char *deployment = NULL;
  g_autofree char *api_version = NULL;
  g_autofree char *api_key = NULL;
  g_autofree char *system_prompt = NULL;
  GtkWidget *tile;
  Pending *pending;

  g_assert (GAZE_IS_WINDOW (self));

  if (gaze_window_is_running (self))
    return;

  gaze_window_hide_error (self);

  endpoint_text = g_settings_get_string (self->settings, "endpoint");
  deployment = g_settings_get_string (self->settings, "deployment");
  api_version = g_settings_get_string (self->settings, "api-version");
  api_key = g_settings_get_string (self->settings, "api-key");

  if (!(endpoint = gaze_endpoint_resolve (endpoint_text, deployment, api_version, &error)))
    {
      gaze_window_show_error (self, error);
      return;
    }

  if (api_key[0] == '\0')
    {
      g_autoptr(GError) key_error = NULL;

      key_error = gaze_client_error_new_literal (GAZE_CLIENT_ERROR_UNAUTHORIZED,
                                                 _("No API key is set. Copy “KEY 1” from the "
                                                   "“Keys and Endpoint” page of your resource "
                                                   "in the Azure portal and paste it in "
                                                   "Preferences."),
                                                 NULL);
      gaze_window_show_error (self, key_error);
      return;
    }

  /* Only the newest answer can be continued. */
  self->can_continue = FALSE;
  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self->turns_box));
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    gaze_turn_view_set_can_continue (GAZE_TURN_VIEW (child), FALSE);

  system_prompt = g_settings_get_string (self->settings, "system-prompt");
  request = gaze_conversation_build_request (self->conversation,
                                             endpoint->api_version,
                                             question,
                                             images);
  gaze_request_set_system_prompt (request, system_prompt);
  gaze_request_set_max_tokens (request, g_settings_get_uint (self->settings, "max-tokens"));

  pending = g_new0 (Pending, 1);
  pending->cancellable = g_cancellable_new ();
  pending->question = g_strdup (question);
  pending->images = g_ptr_array_ref (images);
  pending->endpoint = g_steal_pointer (&endpoint);
  pending->api_key = g_steal_pointer (&api_key);
  pending->request = g_steal_pointer (&request);
  pending->turn = gaze_turn_view_new (question, images);
  pending->draft = g_strdup ("");
  pending->tiles = g_ptr_array_new_with_free_func (g_object_unref);
  gtk_box_append (self->turns_box, GTK_WIDGET (pending->turn));
  self->pending = pending;

  if (from_composer)
    {
      g_free (pending->draft);
      pending->draft = gaze_window_dup_buffer_text (self);
      while ((tile = gtk_widget_get_first_child (GTK_WIDGET (self->attachments_box))))
        {
          g_ptr_array_add (pending->tiles, g_object_ref (tile));
          gtk_box_remove (self->attachments_box, tile);
        }
      gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->prompt_view), "", 0);
    }

  self->stick_to_end = TRUE;
  gaze_window_update_empty_state (self);
  gaze_window_update_actions (self);
  g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, gaze_window_scroll_to_end_cb,
                   g_object_ref (self), g_object_unref);

  gaze_window_dispatch (self);
}

static void
gaze_window_send_action (GtkWidget  *widget,
                         const char *action_name,
                         GVariant   *param)
{
  GazeWindow *self = GAZE_WINDOW (widget);
  g_autoptr(GPtrArray) images = gaze_window_collect_images (self);
  g_autofree char *question = gaze_window_dup_prompt (self);

  g_assert (GAZE_IS_WINDOW (self));

  if (question[0] == '\0' && images->len == 0)
    return;

  gaze_window_ask (self, question, images, TRUE);
}

/* After an answer cut at the longest answer allowed, the model is asked
 * to go on; the photos are in the conversation already.
 */
static void
gaze_window_continue_action (GtkWidget  *widget,
                             const char *action_name,
                             GVariant   *param)
{
  GazeWindow *self = GAZE_WINDOW (widget);
  g_autoptr(GPtrArray) images = g_ptr_array_new ();

  g_assert (GAZE_IS_WINDOW (self));

  gaze_window_ask (self, _("Please continue where you stopped."), images, FALSE);
}

static void
gaze_window_export_save_cb (GObject      *object,
                            GAsyncResult *result,
                            gpointer      user_data)
{
  g_autoptr(GazeWindow) self = user_data;
  g_autoptr(GError) error = NULL;

  g_assert (GAZE_IS_WINDOW (self));
  g_assert (G_IS_FILE (object));
  g_assert (G_IS_ASYNC_RESULT (result));

  if (!g_file_replace_contents_finish (G_FILE (object), result, NULL, &error) &&
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  if (error != NULL)
    {
      g_autofree char *message = NULL;

      message = g_strdup_printf (_("The conversation could not be saved: %s"), error->message);
      gaze_window_toast (self, message);
      return;
    }

  gaze_window_toast (self, _("Conversation saved"));
}

static void
gaze_window_export_response_cb (GazeWindow           *self,
                                int                   response,
                                GtkFileChooserNative *native)
{
  g_assert (GAZE_IS_WINDOW (self));
  g_assert (GTK_IS_FILE_CHOOSER_NATIVE (native));

  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (native));
      char *markdown = gaze_conversation_to_markdown (self->conversation);
      g_autoptr(GBytes) bytes = g_bytes_new_take (markdown, strlen (markdown));

      g_file_replace_contents_bytes_async (file,
                                           bytes,
                                           NULL,
                                           FALSE,
                                           G_FILE_CREATE_REPLACE_DESTINATION,
                                           self->cancellable,
                                           gaze_window_export_save_cb,
                                           g_object_ref (self));
    }

  gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (native));
  g_object_unref (native);
}

static void
gaze_window_export_action (GtkWidget  *widget,
                           const char *action_name,
                           GVariant   *param)
{
  GazeWindow *self = GAZE_WINDOW (widget);
  GtkFileChooserNative *native;

  g_assert (GAZE_IS_WINDOW (self));

  native = gtk_file_chooser_native_new (_("Export Conversation"),
                                        GTK_WINDOW (self),
                                        GTK_FILE_CHOOSER_ACTION_SAVE,
                                        _("_Export"),
                                        _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (native), TRUE);
  /* Translators: the file name an exported conversation is saved under */
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (native), _("Conversation.md"));

  g_signal_connect_object (native, "response",
                           G_CALLBACK (gaze_window_export_response_cb),
                           self, G_CONNECT_SWAPPED);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (native));
}

static void
gaze_window_stop_action (GtkWidget  *widget,
                         const char *action_name,
                         GVariant   *param)
{
  GazeWindow *self = GAZE_WINDOW (widget);
  g_autoptr(GError) error = NULL;
  g_autofree char *partial = NULL;

  g_assert (GAZE_IS_WINDOW (self));

  if (self->pending == NULL)
    return;

  /* Stopped while waiting to try again: say why it was waiting. */
  if (self->pending->countdown_id != 0)
    {
      error = g_steal_pointer (&self->pending->error);
      gaze_window_abandon (self, error);
      return;
    }

  /* Stopped while the answer was being written: what was written stays,
   * marked as stopped, and goes with the next question.
   */
  partial = g_strdup (gaze_turn_view_get_answer (self->pending->turn));
  if (partial[0] != '\0')
    {
      gaze_window_keep_answer (self, partial, _("Stopped."), FALSE, -1, -1);
      return;
    }

  gaze_window_abandon (self, NULL);
}

static void
gaze_window_new_conversation_action (GtkWidget  *widget,
                                     const char *action_name,
                                     GVariant   *param)
{
  GazeWindow *self = GAZE_WINDOW (widget);
  GtkWidget *child;

  g_assert (GAZE_IS_WINDOW (self));

  if (gaze_window_is_running (self))
    return;

  gaze_conversation_clear (self->conversation);
  self->can_continue = FALSE;
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->turns_box))))
    gtk_box_remove (self->turns_box, child);

  gaze_window_hide_error (self);
  gaze_window_update_empty_state (self);
  gaze_window_update_actions (self);
  gtk_widget_grab_focus (GTK_WIDGET (self->prompt_view));
}

static void
gaze_window_tile_failed_cb (GazeWindow    *self,
                            const GError  *error,
                            GazeImageTile *tile)
{
  g_assert (GAZE_IS_WINDOW (self));
  g_assert (GAZE_IS_IMAGE_TILE (tile));

  gaze_window_toast (self, error->message);
  gtk_box_remove (self->attachments_box, GTK_WIDGET (tile));
  gaze_window_update_empty_state (self);
  gaze_window_update_actions (self);
}

static void
gaze_window_tile_remove_cb (GazeWindow    *self,
                            GazeImageTile *tile)
{
  g_assert (GAZE_IS_WINDOW (self));
  g_assert (GAZE_IS_IMAGE_TILE (tile));

  gtk_box_remove (self->attachments_box, GTK_WIDGET (tile));
  gaze_window_update_empty_state (self);
  gaze_window_update_actions (self);
  gtk_widget_grab_focus (GTK_WIDGET (self->prompt_view));
}

static GazeDetail
gaze_window_get_detail (GazeWindow *self)
{
  g_autofree char *text = g_settings_get_string (self->settings, "detail");
  GazeDetail detail = GAZE_DETAIL_AUTO;

  g_assert (GAZE_IS_WINDOW (self));

  gaze_detail_from_string (text, &detail);

  return detail;
}

static gboolean
gaze_window_has_room (GazeWindow *self,
                      const char *name)
{
  g_autofree char *message = NULL;

  g_assert (GAZE_IS_WINDOW (self));

  if (gaze_window_count_tiles (self, NULL) < GAZE_MAX_IMAGES_PER_REQUEST)
    return TRUE;

  message = g_strdup_printf (_("A question can carry at most %d photos. "
                               "Remove one to add “%s”."),
                             GAZE_MAX_IMAGES_PER_REQUEST, name);
  gaze_window_toast (self, message);

  return FALSE;
}

static void
gaze_window_add_tile (GazeWindow    *self,
                      GazeImageTile *tile)
{
  g_assert (GAZE_IS_WINDOW (self));
  g_assert (GAZE_IS_IMAGE_TILE (tile));

  g_signal_connect_object (tile,
                           "failed",
                           G_CALLBACK (gaze_window_tile_failed_cb),
                           self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (tile,
                           "remove",
                           G_CALLBACK (gaze_window_tile_remove_cb),
                           self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (tile,
                           "notify::busy",
                           G_CALLBACK (gaze_window_update_actions),
                           self,
                           G_CONNECT_SWAPPED);

  gtk_box_append (self->attachments_box, GTK_WIDGET (tile));
  gaze_window_update_empty_state (self);
  gaze_window_update_actions (self);
}

typedef struct
{
  GazeWindow *window;
  char       *name;
} Download;

static void
gaze_window_downloaded_cb (GObject      *object,
                           GAsyncResult *result,
                           gpointer      user_data)
{
  Download *download = user_data;
  g_autoptr(GazeWindow) self = download->window;
  g_autofree char *name = download->name;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;

  g_assert (GAZE_IS_WINDOW (self));
  g_assert (GAZE_IS_CLIENT (object));
  g_assert (G_IS_ASYNC_RESULT (result));

  g_free (download);

  if (!(bytes = gaze_client_download_finish (GAZE_CLIENT (object), result, &error)))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        gaze_window_toast (self, error->message);
      return;
    }

  gaze_window_attach_bytes (self, bytes, name);
}

/**
 * gaze_window_attach_file:
 * @self: a #GazeWindow
 * @file: a photo
 *
 * Adds @file to the next question; it is prepared in the background.
 */
void
gaze_window_attach_file (GazeWindow *self,
                         GFile      *file)
{
  g_autofree char *name = NULL;

  g_return_if_fail (GAZE_IS_WINDOW (self));
  g_return_if_fail (G_IS_FILE (file));

  name = g_file_get_basename (file);
  if (!gaze_window_has_room (self, name))
    return;

  /* A photo dragged from a web page comes as its address: Gaze fetches
   * it itself rather than rely on a virtual file system.
   */
  if (g_file_has_uri_scheme (file, "http") || g_file_has_uri_scheme (file, "https"))
    {
      g_autofree char *uri = g_file_get_uri (file);
      Download *download = g_new0 (Download, 1);

      download->window = g_object_ref (self);
      download->name = g_steal_pointer (&name);
      gaze_client_download_async (self->client, uri, self->cancellable,
                                  gaze_window_downloaded_cb, download);
      return;
    }

  gaze_window_add_tile (self,
                        gaze_image_tile_new_for_file (self->image_cache,
                                                      file,
                                                      gaze_window_get_detail (self)));
}

/**
 * gaze_window_attach_bytes:
 * @self: a #GazeWindow
 * @bytes: an encoded image
 * @name: what to call it
 *
 * Adds a pasted or dropped image to the next question.
 */
void
gaze_window_attach_bytes (GazeWindow *self,
                          GBytes     *bytes,
                          const char *name)
{
  g_return_if_fail (GAZE_IS_WINDOW (self));
  g_return_if_fail (bytes != NULL);
  g_return_if_fail (name != NULL);

  if (!gaze_window_has_room (self, name))
    return;

  gaze_window_add_tile (self,
                        gaze_image_tile_new_for_bytes (self->image_cache,
                                                       bytes,
                                                       name,
                                                       gaze_window_get_detail (self)));
}

/**
 * gaze_window_get_busy:
 * @self: a #GazeWindow
 *
 * Returns: whether a question is being asked, its answer streaming in, or
 *   a retry counting down
 */
gboolean
gaze_window_get_busy (GazeWindow *self)
{
  g_return_val_if_fail (GAZE_IS_WINDOW (self), FALSE);

  return gaze_window_is_running (self);
}

guint
gaze_window_get_n_attachments (GazeWindow *self)
{
  g_return_val_if_fail (GAZE_IS_WINDOW (self), 0);

  return gaze_window_count_tiles (self, NULL);
}

static void
gaze_window_attach_file_list (GazeWindow *self,
                              GSList     *files)
{
  g_assert (GAZE_IS_WINDOW (self));

  for (const GSList *l = files; l; l = l->next)
    gaze_window_attach_file (self, l->data);
}

/* Encoding a texture is too slow for the main loop when it is a large
 * screenshot; it is done in a worker thread and then prepared like a file.
 */
static void
encode_texture_thread (GTask        *task,
                       gpointer      source_object,
                       gpointer      task_data,
                       GCancellable *cancellable)
{
  GdkTexture *texture = task_data;

  g_assert (G_IS_TASK (task));
  g_assert (GDK_IS_TEXTURE (texture));

  g_task_return_pointer (task,
                         gdk_texture_save_to_png_bytes (texture),
                         (GDestroyNotify)g_bytes_unref);
}

static void
encode_texture_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  GazeWindow *self = GAZE_WINDOW (object);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;

  g_assert (GAZE_IS_WINDOW (self));
  g_assert (G_IS_TASK (result));

  /* The window may have closed meanwhile. */
  if (!(bytes = g_task_propagate_pointer (G_TASK (result), &error)))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        gaze_window_toast (self, _("The pasted image could not be read."));
      return;
    }

  gaze_window_attach_bytes (self, bytes, _("Pasted image"));
}

static void
gaze_window_attach_texture (GazeWindow *self,
                            GdkTexture *texture)
{
  g_autoptr(GTask) task = g_task_new (self, self->cancellable, encode_texture_cb, NULL);

  g_assert (GAZE_IS_WINDOW (self));
  g_assert (GDK_IS_TEXTURE (texture));

  g_task_set_source_tag (task, gaze_window_attach_texture);
  g_task_set_check_cancellable (task, TRUE);
  g_task_set_task_data (task, g_object_ref (texture), g_object_unref);
  g_task_run_in_thread (task, encode_texture_thread);
}

static void
gaze_window_file_chooser_response_cb (GazeWindow           *self,
                                      int                   response,
                                      GtkFileChooserNative *native)
{
  g_assert (GAZE_IS_WINDOW (self));
  g_assert (GTK_IS_FILE_CHOOSER_NATIVE (native));

  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GListModel) files = gtk_file_chooser_get_files (GTK_FILE_CHOOSER (native));

      for (guint i = 0; i < g_list_model_get_n_items (files); i++)
        {
          g_autoptr(GFile) file = g_list_model_get_item (files, i);

          gaze_window_attach_file (self, file);
        }
    }

  gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (native));
  g_object_unref (native);
}

static void
gaze_window_attach_action (GtkWidget  *widget,
                           const char *action_name,
                           GVariant   *param)
{
  GazeWindow *self = GAZE_WINDOW (widget);
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();
  GtkFileChooserNative *native;

  g_assert (GAZE_IS_WINDOW (self));

  native = gtk_file_chooser_native_new (_("Attach Photos"),
                                        GTK_WINDOW (self),
                                        GTK_FILE_CHOOSER_ACTION_OPEN,
                                        _("_Attach"),
                                        _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (native), TRUE);
  gtk_file_chooser_set_select_multiple (GTK_FILE_CHOOSER (native), TRUE);

  gtk_file_filter_set_name (filter, _("Photos"));
  gtk_file_filter_add_pixbuf_formats (filter);
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (native), filter);

  g_signal_connect_object (native, "response",
                           G_CALLBACK (gaze_window_file_chooser_response_cb),
                           self, G_CONNECT_SWAPPED);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (native));
}

static void
gaze_window_read_files_cb (GObject      *object,
                           GAsyncResult *result,
                           gpointer      user_data)
{
  g_autoptr(GazeWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  const GValue *value;

  g_assert (GAZE_IS_WINDOW (self));
  g_assert (GDK_IS_CLIPBOARD (object));
  g_assert (G_IS_ASYNC_RESULT (result));

  value = gdk_clipboard_read_value_finish (GDK_CLIPBOARD (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  if (value != NULL && G_VALUE_HOLDS (value, GDK_TYPE_FILE_LIST))
    gaze_window_attach_file_list (self, g_value_get_boxed (value));
  else
    gaze_window_toast (self, _("The copied files could not be read."));
}

static void
gaze_window_read_texture_cb (GObject      *object,
                             GAsyncResult *result,
                             gpointer      user_data)
{
  g_autoptr(GazeWindow) self = user_data;
  g_autoptr(GdkTexture) texture = NULL;
  g_autoptr(GError) error = NULL;

  g_assert (GAZE_IS_WINDOW (self));
  g_assert (GDK_IS_CLIPBOARD (object));
  g_assert (G_IS_ASYNC_RESULT (result));

  texture = gdk_clipboard_read_texture_finish (GDK_CLIPBOARD (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  if (texture != NULL)
    gaze_window_attach_texture (self, texture);
  else
    gaze_window_toast (self, _("The copied image could not be read."));
}

/* Ctrl+V attaches copied photos or files; plain text is left to the
 * question's own paste.
 */
static gboolean
gaze_window_paste_cb (GtkWidget *widget,
                      GVariant  *args,
                      gpointer   user_data)
{
  GazeWindow *self = GAZE_WINDOW (widget);
  GdkClipboard *clipboard = gtk_widget_get_clipboard (widget);
  GdkContentFormats *formats = gdk_clipboard_get_formats (clipboard);

  g_assert (GAZE_IS_WINDOW (self));

  /* Photos are pasted only where they can be seen: not on the setup page. */
  if (!gtk_widget_get_mapped (GTK_WIDGET (self->prompt_view)))
    return FALSE;

  if (gdk_content_formats_contain_gtype (formats, GDK_TYPE_FILE_LIST))
    {
      gdk_clipboard_read_value_async (clipboard,
                                      GDK_TYPE_FILE_LIST,
                                      G_PRIORITY_DEFAULT,
                                      self->cancellable,
                                      gaze_window_read_files_cb,
                                      g_object_ref (self));
      return TRUE;
    }

  if (gdk_content_formats_contain_gtype (formats, GDK_TYPE_TEXTURE))
    {
      gdk_clipboard_read_texture_async (clipboard,
                                        self->cancellable,
                                        gaze_window_read_texture_cb,
                                        g_object_ref (self));
      return TRUE;
    }

  return FALSE;
}

static gboolean
gaze_window_drop_cb (GazeWindow    *self,
                     const GValue  *value,
                     double         x,
                     double         y,
                     GtkDropTarget *target)
{
  g_assert (GAZE_IS_WINDOW (self));
  g_assert (GTK_IS_DROP_TARGET (target));

  gtk_widget_set_visible (self->drop_highlight, FALSE);

  if (G_VALUE_HOLDS (value, GDK_TYPE_FILE_LIST))
    {
      gaze_window_attach_file_list (self, g_value_get_boxed (value));
      return TRUE;
    }

  if (G_VALUE_HOLDS (value, GDK_TYPE_TEXTURE))
    {
      gaze_window_attach_texture (self, g_value_get_object (value));
      return TRUE;
    }

  return FALSE;
}

static GdkDragAction
gaze_window_drop_enter_cb (GazeWindow    *self,
                           double         x,
                           double         y,
                           GtkDropTarget *target)
{
  g_assert (GAZE_IS_WINDOW (self));
  g_assert (GTK_IS_DROP_TARGET (target));

  gtk_widget_set_visible (self->drop_highlight, TRUE);

  return GDK_ACTION_COPY;
}

static void
gaze_window_drop_leave_cb (GazeWindow    *self,
                           GtkDropTarget *target)
{
  g_assert (GAZE_IS_WINDOW (self));
  g_assert (GTK_IS_DROP_TARGET (target));

  gtk_widget_set_visible (self->drop_highlight, FALSE);
}

static gboolean
gaze_window_prompt_key_pressed_cb (GazeWindow            *self,
                                   guint                  keyval,
                                   guint                  keycode,
                                   GdkModifierType        state,
                                   GtkEventControllerKey *controller)
{
  GdkEvent *event;

  g_assert (GAZE_IS_WINDOW (self));
  g_assert (GTK_IS_EVENT_CONTROLLER_KEY (controller));

  if (keyval != GDK_KEY_Return && keyval != GDK_KEY_KP_Enter && keyval != GDK_KEY_ISO_Enter)
    return FALSE;

  if (state & (GDK_SHIFT_MASK | GDK_CONTROL_MASK | GDK_ALT_MASK))
    return FALSE;

  /* An input method may use Enter to commit what is being composed. */
  event = gtk_event_controller_get_current_event (GTK_EVENT_CONTROLLER (controller));
  if (event != NULL && gtk_text_view_im_context_filter_keypress (self->prompt_view, event))
    return TRUE;

  gtk_widget_activate_action (GTK_WIDGET (self), "win.send", NULL);

  return TRUE;
}

static void
gaze_window_setup_endpoint_changed_cb (GazeWindow  *self,
                                       GtkEditable *editable)
{
  g_autoptr(GazeEndpoint) endpoint = gaze_endpoint_parse (gtk_editable_get_text (editable), NULL);

  g_assert (GAZE_IS_WINDOW (self));
  g_assert (GTK_IS_EDITABLE (editable));

  /* A pasted target URI names the deployment and the api-version too. */
  if (endpoint != NULL && endpoint->deployment != NULL)
    gtk_editable_set_text (GTK_EDITABLE (self->setup_deployment_row), endpoint->deployment);
  if (endpoint != NULL && endpoint->api_version != NULL)
    gtk_editable_set_text (GTK_EDITABLE (self->setup_api_version_row), endpoint->api_version);
}

static void
gaze_window_show_setup_error (GazeWindow *self,
                              const char *message)
{
  g_assert (GAZE_IS_WINDOW (self));

  gtk_label_set_label (self->setup_error_label, message);
  gtk_widget_set_visible (GTK_WIDGET (self->setup_error_label), TRUE);
}

static void
gaze_window_finish_setup_action (GtkWidget  *widget,
                                 const char *action_name,
                                 GVariant   *param)
{
  GazeWindow *self = GAZE_WINDOW (widget);
  g_autoptr(GazeEndpoint) endpoint = NULL;
  g_autoptr(GSettings) batch = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *key = NULL;
  const char *text;
  const char *deployment;
  const char *api_version;

  g_assert (GAZE_IS_WINDOW (self));

  text = gtk_editable_get_text (GTK_EDITABLE (self->setup_endpoint_row));
  deployment = gtk_editable_get_text (GTK_EDITABLE (self->setup_deployment_row));
  api_version = gtk_editable_get_text (GTK_EDITABLE (self->setup_api_version_row));

  if (!(endpoint = gaze_endpoint_resolve (text, deployment, api_version, &error)))
    {
      gaze_window_show_setup_error (self, error->message);
      gtk_widget_grab_focus (error->code == GAZE_ENDPOINT_ERROR_NO_DEPLOYMENT
                             ? GTK_WIDGET (self->setup_deployment_row)
                             : GTK_WIDGET (self->setup_endpoint_row));
      return;
    }

  key = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->setup_key_row))));
  if (key[0] == '\0')
    {
      gaze_window_show_setup_error (self,
                                    _("Enter the API key. It is “KEY 1” on the “Keys and "
                                      "Endpoint” page of your resource."));
      gtk_widget_grab_focus (GTK_WIDGET (self->setup_key_row));
      return;
    }

  /* One change for the four keys, on an object of its own: delaying the
   * app's shared settings would hold back every later write too.
   */
  batch = g_settings_new (APP_ID);
  g_settings_delay (batch);
  g_settings_set_string (batch, "endpoint", endpoint->base_url);
  g_settings_set_string (batch, "deployment", endpoint->deployment);
  g_settings_set_string (batch, "api-version", endpoint->api_version);
  g_settings_set_string (batch, "api-key", key);
  g_settings_apply (batch);

  gtk_widget_set_visible (GTK_WIDGET (self->setup_error_label), FALSE);
  gtk_editable_set_text (GTK_EDITABLE (self->setup_key_row), "");
  gaze_window_show_page (self, "chat");
}

static void
gaze_window_show_page (GazeWindow *self,
                       const char *name)
{
  gboolean chat = g_str_equal (name, "chat");

  g_assert (GAZE_IS_WINDOW (self));

  gtk_stack_set_visible_child_name (self->stack, name);
  gtk_widget_set_visible (self->attach_button, chat);
  gtk_widget_set_visible (self->new_button, chat);
  gaze_window_update_actions (self);
  gtk_widget_grab_focus (chat
                         ? GTK_WIDGET (self->prompt_view)
                         : GTK_WIDGET (self->setup_endpoint_row));
}

static gboolean
gaze_window_needs_setup (GazeWindow *self)
{
  g_autofree char *endpoint = g_settings_get_string (self->settings, "endpoint");
  g_autofree char *deployment = g_settings_get_string (self->settings, "deployment");
  g_autofree char *key = g_settings_get_string (self->settings, "api-key");

  g_assert (GAZE_IS_WINDOW (self));

  return endpoint[0] == '\0' || key[0] == '\0' ||
         (deployment[0] == '\0' && strstr (endpoint, "/deployments/") == NULL);
}

static gboolean
gaze_window_close_request (GtkWindow *window)
{
  GazeWindow *self = GAZE_WINDOW (window);
  int width, height;

  g_assert (GAZE_IS_WINDOW (self));

  gtk_window_get_default_size (window, &width, &height);

  g_settings_set_int (self->settings, "window-width", width);
  g_settings_set_int (self->settings, "window-height", height);
  g_settings_set_boolean (self->settings, "window-maximized", gtk_window_is_maximized (window));

  return GTK_WINDOW_CLASS (gaze_window_parent_class)->close_request (window);
}

static void
gaze_window_detail_changed_cb (GazeWindow *self,
                               const char *key,
                               GSettings  *settings)
{
  GazeDetail detail;

  g_assert (GAZE_IS_WINDOW (self));
  g_assert (G_IS_SETTINGS (settings));

  detail = gaze_window_get_detail (self);

  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self->attachments_box));
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    gaze_image_tile_set_default_detail (GAZE_IMAGE_TILE (child), detail);
}

/* GtkWindow:application is not a construct property, so this runs once it
 * is set, from gaze_window_new().
 */
static void
gaze_window_load_application (GazeWindow      *self,
                              GazeApplication *app)
{
  g_autofree char *api_version = NULL;

  g_assert (GAZE_IS_WINDOW (self));
  g_assert (GAZE_IS_APPLICATION (app));

  self->settings = g_object_ref (gaze_application_get_settings (app));
  self->client = g_object_ref (gaze_application_get_client (app));
  self->image_cache = g_object_ref (gaze_application_get_image_cache (app));

  gtk_window_set_default_size (GTK_WINDOW (self),
                               g_settings_get_int (self->settings, "window-width"),
                               g_settings_get_int (self->settings, "window-height"));
  if (g_settings_get_boolean (self->settings, "window-maximized"))
    gtk_window_maximize (GTK_WINDOW (self));

  g_settings_bind (self->settings,
                   "deployment",
                   self->window_title,
                   "subtitle",
                   G_SETTINGS_BIND_GET);
  g_signal_connect_object (self->settings,
                           "changed::detail",
                           G_CALLBACK (gaze_window_detail_changed_cb),
                           self,
                           G_CONNECT_SWAPPED);

  api_version = g_settings_get_string (self->settings, "api-version");
  gtk_editable_set_text (GTK_EDITABLE (self->setup_api_version_row), api_version);

  if (gaze_window_needs_setup (self))
    {
      g_autofree char *endpoint = g_settings_get_string (self->settings, "endpoint");
      g_autofree char *deployment = g_settings_get_string (self->settings, "deployment");

      gtk_editable_set_text (GTK_EDITABLE (self->setup_endpoint_row), endpoint);
      gtk_editable_set_text (GTK_EDITABLE (self->setup_deployment_row), deployment);
      gaze_window_show_page (self, "setup");
    }
  else
    {
      gaze_window_show_page (self, "chat");
    }
}

static void
gaze_window_dispose (GObject *object)
{
  GazeWindow *self = (GazeWindow *)object;

  g_assert (GAZE_IS_WINDOW (self));

  /* Closing the window ends its request; the callback then finds no
   * pending question and does nothing.
   */
  g_clear_pointer (&self->pending, pending_free);
  g_cancellable_cancel (self->cancellable);

  gtk_widget_dispose_template (GTK_WIDGET (self), GAZE_TYPE_WINDOW);

  g_clear_object (&self->conversation);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->client);
  g_clear_object (&self->image_cache);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (gaze_window_parent_class)->dispose (object);
}

static void
gaze_window_class_init (GazeWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = gaze_window_dispose;

  window_class->close_request = gaze_window_close_request;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/gazeapp/Gaze/gaze-window.ui");
  gtk_widget_class_bind_template_child (widget_class, GazeWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, GazeWindow, window_title);
  gtk_widget_class_bind_template_child (widget_class, GazeWindow, stack);
  gtk_widget_class_bind_template_child (widget_class, GazeWindow, attach_button);
  gtk_widget_class_bind_template_child (widget_class, GazeWindow, new_button);
  gtk_widget_class_bind_template_child (widget_class, GazeWindow, setup_endpoint_row);
  gtk_widget_class_bind_template_child (widget_class, GazeWindow, setup_deployment_row);
  gtk_widget_class_bind_template_child (widget_class, GazeWindow, setup_key_row);
  gtk_widget_class_bind_template_child (widget_class, GazeWindow, setup_api_version_row);
  gtk_widget_class_bind_template_child (widget_class, GazeWindow, setup_error_label);
  gtk_widget_class_bind_template_child (widget_class, GazeWindow, scroller);
  gtk_widget_class_bind_template_child (widget_class, GazeWindow, empty_page);
  gtk_widget_class_bind_template_child (widget_class, GazeWindow, turns_box);
  gtk_widget_class_bind_template_child (widget_class, GazeWindow, error_box);
  gtk_widget_class_bind_template_child (widget_class, GazeWindow, error_title);
  gtk_widget_class_bind_template_child (widget_class, GazeWindow, error_label);
  gtk_widget_class_bind_template_child (widget_class, GazeWindow, error_details);
  gtk_widget_class_bind_template_child (widget_class, GazeWindow, error_details_label);
  gtk_widget_class_bind_template_child (widget_class, GazeWindow, error_preferences_button);
  gtk_widget_class_bind_template_child (widget_class, GazeWindow, drop_highlight);
  gtk_widget_class_bind_template_child (widget_class, GazeWindow, attachments_revealer);
  gtk_widget_class_bind_template_child (widget_class, GazeWindow, attachments_box);
  gtk_widget_class_bind_template_child (widget_class, GazeWindow, estimate_label);
  gtk_widget_class_bind_template_child (widget_class, GazeWindow, prompt_view);
  gtk_widget_class_bind_template_child (widget_class, GazeWindow, prompt_placeholder);
  gtk_widget_class_bind_template_child (widget_class, GazeWindow, send_stack);

  gtk_widget_class_install_action (widget_class, "win.send", NULL, gaze_window_send_action);
  gtk_widget_class_install_action (widget_class, "win.stop", NULL, gaze_window_stop_action);
  gtk_widget_class_install_action (widget_class, "win.attach", NULL, gaze_window_attach_action);
  gtk_widget_class_install_action (widget_class,
                                   "win.new-conversation",
                                   NULL,
                                   gaze_window_new_conversation_action);
  gtk_widget_class_install_action (widget_class,
                                   "win.finish-setup",
                                   NULL,
                                   gaze_window_finish_setup_action);
  gtk_widget_class_install_action (widget_class, "win.continue", NULL, gaze_window_continue_action);
  gtk_widget_class_install_action (widget_class, "win.export", NULL, gaze_window_export_action);

  gtk_widget_class_add_binding_action (widget_class,
                                       GDK_KEY_o, GDK_CONTROL_MASK,
                                       "win.attach", NULL);
  gtk_widget_class_add_binding_action (widget_class,
                                       GDK_KEY_n, GDK_CONTROL_MASK,
                                       "win.new-conversation", NULL);
  gtk_widget_class_add_binding_action (widget_class,
                                       GDK_KEY_Escape, 0,
                                       "win.stop", NULL);
  gtk_widget_class_add_binding_action (widget_class,
                                       GDK_KEY_w, GDK_CONTROL_MASK,
                                       "window.close", NULL);
  gtk_widget_class_add_binding_action (widget_class,
                                       GDK_KEY_s, GDK_CONTROL_MASK | GDK_SHIFT_MASK,
                                       "win.export", NULL);
}

static void
gaze_window_init (GazeWindow *self)
{
  GtkEventController *controller;
  GtkShortcut *paste;
  GtkDropTarget *drop_target;
  GType drop_types[] = { GDK_TYPE_FILE_LIST, GDK_TYPE_TEXTURE };
  GtkAdjustment *adjustment;

  gtk_widget_init_template (GTK_WIDGET (self));

  self->conversation = gaze_conversation_new ();
  self->cancellable = g_cancellable_new ();

  /* Enter sends and Shift+Enter starts a new line; this must run before
   * the text view inserts the newline itself.
   */
  controller = gtk_event_controller_key_new ();
  gtk_event_controller_set_propagation_phase (controller, GTK_PHASE_CAPTURE);
  g_signal_connect_object (controller, "key-pressed",
                           G_CALLBACK (gaze_window_prompt_key_pressed_cb),
                           self, G_CONNECT_SWAPPED);
  gtk_widget_add_controller (GTK_WIDGET (self->prompt_view), controller);

  /* Ctrl+V must see copied photos before the text view pastes text. */
  controller = gtk_shortcut_controller_new ();
  gtk_event_controller_set_propagation_phase (controller, GTK_PHASE_CAPTURE);
  paste = gtk_shortcut_new (gtk_keyval_trigger_new (GDK_KEY_v, GDK_CONTROL_MASK),
                            gtk_callback_action_new (gaze_window_paste_cb, NULL, NULL));
  gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (controller), paste);
  gtk_widget_add_controller (GTK_WIDGET (self), controller);

  drop_target = gtk_drop_target_new (G_TYPE_INVALID, GDK_ACTION_COPY);
  gtk_drop_target_set_gtypes (drop_target, drop_types, G_N_ELEMENTS (drop_types));
  g_signal_connect_object (drop_target,
                           "drop",
                           G_CALLBACK (gaze_window_drop_cb),
                           self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (drop_target,
                           "enter",
                           G_CALLBACK (gaze_window_drop_enter_cb),
                           self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (drop_target,
                           "leave",
                           G_CALLBACK (gaze_window_drop_leave_cb),
                           self,
                           G_CONNECT_SWAPPED);
  gtk_widget_add_controller (GTK_WIDGET (self->toast_overlay), GTK_EVENT_CONTROLLER (drop_target));

  adjustment = gtk_scrolled_window_get_vadjustment (self->scroller);
  g_signal_connect_object (adjustment,
                           "value-changed",
                           G_CALLBACK (gaze_window_scrolled_cb),
                           self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (adjustment,
                           "notify::upper",
                           G_CALLBACK (gaze_window_grown_cb),
                           self,
                           G_CONNECT_SWAPPED);

  g_signal_connect_object (gtk_text_view_get_buffer (self->prompt_view),
                           "changed",
                           G_CALLBACK (gaze_window_update_actions),
                           self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->setup_endpoint_row,
                           "changed",
                           G_CALLBACK (gaze_window_setup_endpoint_changed_cb),
                           self,
                           G_CONNECT_SWAPPED);

  gaze_window_update_empty_state (self);
  gaze_window_update_actions (self);
}

/**
 * gaze_window_new:
 * @application: the app
 *
 * Returns: (transfer floating): a new main window
 */
GazeWindow *
gaze_window_new (GazeApplication *application)
{
  GazeWindow *self;

  g_return_val_if_fail (GAZE_IS_APPLICATION (application), NULL);

  self = g_object_new (GAZE_TYPE_WINDOW,
                       "application", application,
                       NULL);
  gaze_window_load_application (self, application);

  return self;
}
