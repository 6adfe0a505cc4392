/* gaze-preferences-window.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "gaze-preferences"

#include "config.h"

#include <glib/gi18n.h>

#include "gaze-client.h"
#include "gaze-endpoint.h"
#include "gaze-preferences-window.h"

struct _GazePreferencesWindow
{
  AdwPreferencesWindow  parent_instance;

  GSettings            *settings;
  GazeClient           *client;
  GCancellable         *cancellable;

  AdwEntryRow          *endpoint_row;
  AdwEntryRow          *deployment_row;
  AdwPasswordEntryRow  *key_row;
  AdwEntryRow          *api_version_row;
  AdwComboRow          *detail_row;
  GtkSpinButton        *max_tokens_spin;
  AdwEntryRow          *system_prompt_row;
  AdwActionRow         *test_row;
  GtkImage             *test_icon;
  GtkStack             *test_stack;
  GtkSpinner           *test_spinner;
};

G_DEFINE_FINAL_TYPE (GazePreferencesWindow, gaze_preferences_window, ADW_TYPE_PREFERENCES_WINDOW)

/* The combo row lists the choices in this order. */
static const char * const detail_choices[] = { "auto", "low", "high" };

static gboolean
detail_get_mapping (GValue   *value,
                    GVariant *variant,
                    gpointer  user_data)
{
  const char *detail = g_variant_get_string (variant, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (detail_choices); i++)
    {
      if (g_str_equal (detail, detail_choices[i]))
        {
          g_value_set_uint (value, i);
          return TRUE;
        }
    }

  return FALSE;
}

static GVariant *
detail_set_mapping (const GValue       *value,
                    const GVariantType *expected_type,
                    gpointer            user_data)
{
  guint selected = g_value_get_uint (value);

  if (selected >= G_N_ELEMENTS (detail_choices))
    return NULL;

  return g_variant_new_string (detail_choices[selected]);
}

/* When the full target URI is pasted, it also names the deployment and the
 * api-version: fill those in so the person does not have to.
 */
static void
gaze_preferences_window_endpoint_changed_cb (GazePreferencesWindow *self,
                                             GtkEditable           *editable)
{
  g_autoptr(GazeEndpoint) endpoint = NULL;
  g_autoptr(GError) error = NULL;
  const char *text;

  g_assert (GAZE_IS_PREFERENCES_WINDOW (self));
  g_assert (GTK_IS_EDITABLE (editable));

  text = gtk_editable_get_text (editable);
  endpoint = gaze_endpoint_parse (text, &error);

  if (endpoint == NULL && !g_error_matches (error, GAZE_ENDPOINT_ERROR, GAZE_ENDPOINT_ERROR_EMPTY))
    {
      gtk_widget_add_css_class (GTK_WIDGET (self->endpoint_row), "error");
      gtk_widget_set_tooltip_text (GTK_WIDGET (self->endpoint_row), error->message);
      return;
    }

  gtk_widget_remove_css_class (GTK_WIDGET (self->endpoint_row), "error");
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->endpoint_row), NULL);

  if (endpoint != NULL && endpoint->deployment != NULL)
    gtk_editable_set_text (GTK_EDITABLE (self->deployment_row), endpoint->deployment);
  if (endpoint != NULL && endpoint->api_version != NULL)
    gtk_editable_set_text (GTK_EDITABLE (self->api_version_row), endpoint->api_version);
}

static void
gaze_preferences_window_show_test_result (GazePreferencesWindow *self,
                                          gboolean               success,
                                          const char            *message)
{
  g_assert (GAZE_IS_PREFERENCES_WINDOW (self));

  gtk_spinner_stop (self->test_spinner);
  gtk_stack_set_visible_child_name (self->test_stack, "button");

  gtk_image_set_from_icon_name (self->test_icon,
                                success ? "emblem-ok-symbolic" : "dialog-warning-symbolic");
  gtk_widget_remove_css_class (GTK_WIDGET (self->test_icon), success ? "error" : "success");
  gtk_widget_add_css_class (GTK_WIDGET (self->test_icon), success ? "success" : "error");
  gtk_widget_set_visible (GTK_WIDGET (self->test_icon), TRUE);
  adw_action_row_set_subtitle (self->test_row, message);
}

static void
gaze_preferences_window_test_cb (GObject      *object,
                                 GAsyncResult *result,
                                 gpointer      user_data)
{
  g_autoptr(GazePreferencesWindow) self = user_data;
  g_autoptr(GazeReply) reply = NULL;
  g_autoptr(GError) error = NULL;

  g_assert (GAZE_IS_PREFERENCES_WINDOW (self));
  g_assert (GAZE_IS_CLIENT (object));
  g_assert (G_IS_ASYNC_RESULT (result));

  reply = gaze_client_complete_finish (GAZE_CLIENT (object), result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  if (reply == NULL)
    gaze_preferences_window_show_test_result (self, FALSE, error->message);
  else
    gaze_preferences_window_show_test_result (self,
                                              TRUE,
                                              _("Gaze reached the deployment, and it answered."));
}

/* A question of one word that asks for one token of answer: enough to
 * prove the endpoint, the deployment and the key, and nearly free.
 */
static void
gaze_preferences_window_test_connection_action (GtkWidget  *widget,
                                                const char *action_name,
                                                GVariant   *param)
{
  GazePreferencesWindow *self = GAZE_PREFERENCES_WINDOW (widget);
  g_autoptr(GazeEndpoint) endpoint = NULL;
  g_autoptr(GazeRequest) request = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = g_settings_get_string (self->settings, "endpoint");
  g_autofree char *deployment = g_settings_get_string (self->settings, "deployment");
  g_autofree char *api_version = g_settings_get_string (self->settings, "api-version");
  g_autofree char *key = g_settings_get_string (self->settings, "api-key");

  g_assert (GAZE_IS_PREFERENCES_WINDOW (self));

  if (!(endpoint = gaze_endpoint_resolve (text, deployment, api_version, &error)))
    {
      gaze_preferences_window_show_test_result (self, FALSE, error->message);
      return;
    }

  if (key[0] == '\0')
    {
      gaze_preferences_window_show_test_result (self, FALSE, _("Enter the API key first."));
      return;
    }

  request = gaze_request_new (endpoint->api_version);
  gaze_request_add_user_message (request, "Hi", NULL);
  gaze_request_set_max_tokens (request, 1);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();

  gtk_widget_set_visible (GTK_WIDGET (self->test_icon), FALSE);
  adw_action_row_set_subtitle (self->test_row, _("Testing…"));
  gtk_stack_set_visible_child_name (self->test_stack, "spinner");
  gtk_spinner_start (self->test_spinner);

  gaze_client_complete_async (self->client, endpoint, key, request, self->cancellable,
                              gaze_preferences_window_test_cb, g_object_ref (self));
}

static void
gaze_preferences_window_bind_settings (GazePreferencesWindow *self)
{
  g_assert (GAZE_IS_PREFERENCES_WINDOW (self));

  g_settings_bind (self->settings, "endpoint",
                   self->endpoint_row, "text",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "deployment",
                   self->deployment_row, "text",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "api-key",
                   self->key_row, "text",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "api-version",
                   self->api_version_row, "text",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "system-prompt",
                   self->system_prompt_row, "text",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "max-tokens",
                   gtk_spin_button_get_adjustment (self->max_tokens_spin), "value",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind_with_mapping (self->settings, "detail", self->detail_row, "selected",
                                G_SETTINGS_BIND_DEFAULT,
                                detail_get_mapping, detail_set_mapping, NULL, NULL);

  g_signal_connect_object (self->endpoint_row,
                           "changed",
                           G_CALLBACK (gaze_preferences_window_endpoint_changed_cb),
                           self,
                           G_CONNECT_SWAPPED);
}

static void
gaze_preferences_window_dispose (GObject *object)
{
  GazePreferencesWindow *self = (GazePreferencesWindow *)object;

  g_assert (GAZE_IS_PREFERENCES_WINDOW (self));

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  gtk_widget_dispose_template (GTK_WIDGET (self), GAZE_TYPE_PREFERENCES_WINDOW);
  g_clear_object (&self->settings);
  g_clear_object (&self->client);

  G_OBJECT_CLASS (gaze_preferences_window_parent_class)->dispose (object);
}

static void
gaze_preferences_window_class_init (GazePreferencesWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = gaze_preferences_window_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/gazeapp/Gaze/"
                                               "gaze-preferences-window.ui");
  gtk_widget_class_bind_template_child (widget_class, GazePreferencesWindow, endpoint_row);
  gtk_widget_class_bind_template_child (widget_class, GazePreferencesWindow, deployment_row);
  gtk_widget_class_bind_template_child (widget_class, GazePreferencesWindow, key_row);
  gtk_widget_class_bind_template_child (widget_class, GazePreferencesWindow, api_version_row);
  gtk_widget_class_bind_template_child (widget_class, GazePreferencesWindow, detail_row);
  gtk_widget_class_bind_template_child (widget_class, GazePreferencesWindow, max_tokens_spin);
  gtk_widget_class_bind_template_child (widget_class, GazePreferencesWindow, system_prompt_row);
  gtk_widget_class_bind_template_child (widget_class, GazePreferencesWindow, test_row);
  gtk_widget_class_bind_template_child (widget_class, GazePreferencesWindow, test_icon);
  gtk_widget_class_bind_template_child (widget_class, GazePreferencesWindow, test_stack);
  gtk_widget_class_bind_template_child (widget_class, GazePreferencesWindow, test_spinner);

  gtk_widget_class_install_action (widget_class,
                                   "preferences.test-connection",
                                   NULL,
                                   gaze_preferences_window_test_connection_action);

  gtk_widget_class_add_binding_action (widget_class,
                                       GDK_KEY_w, GDK_CONTROL_MASK,
                                       "window.close", NULL);
}

static void
gaze_preferences_window_init (GazePreferencesWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

/**
 * gaze_preferences_window_new:
 * @settings: the app's settings, edited in place
 * @client: the app's client, for testing the connection
 *
 * Returns: (transfer floating): a new preferences window
 */
GazePreferencesWindow *
gaze_preferences_window_new (GSettings  *settings,
                             GazeClient *client)
{
  GazePreferencesWindow *self;

  g_return_val_if_fail (G_IS_SETTINGS (settings), NULL);
  g_return_val_if_fail (GAZE_IS_CLIENT (client), NULL);

  self = g_object_new (GAZE_TYPE_PREFERENCES_WINDOW, NULL);
  self->settings = g_object_ref (settings);
  self->client = g_object_ref (client);
  gaze_preferences_window_bind_settings (self);

  return self;
}
