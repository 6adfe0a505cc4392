/* gaze-application.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "gaze-application"

#include "config.h"

#include <glib/gi18n.h>

#include "gaze-application.h"
#include "gaze-cli.h"
#include "gaze-preferences-window.h"
#include "gaze-window.h"

struct _GazeApplication
{
  AdwApplication  parent_instance;

  GSettings      *settings;
  GazeClient     *client;
  GazeImageCache *image_cache;
};

G_DEFINE_FINAL_TYPE (GazeApplication, gaze_application, ADW_TYPE_APPLICATION)

static const GOptionEntry option_entries[] = {
  { "ask", 'a', 0, G_OPTION_ARG_STRING, NULL,
    N_("Send TEXT with the images, print the answer and exit"), N_("TEXT") },
  { "endpoint", 0, 0, G_OPTION_ARG_STRING, NULL,
    N_("Azure OpenAI endpoint or resource name, for this run only"), N_("URL") },
  { "deployment", 0, 0, G_OPTION_ARG_STRING, NULL,
    N_("Deployment name, for this run only"), N_("NAME") },
  { "api-version", 0, 0, G_OPTION_ARG_STRING, NULL,
    N_("API version, for this run only"), N_("VERSION") },
  { "detail", 0, 0, G_OPTION_ARG_STRING, NULL,
    N_("Image detail for all images: low, high or auto"), N_("DETAIL") },
  { "max-tokens", 0, 0, G_OPTION_ARG_STRING, NULL,
    N_("The longest answer, in tokens"), N_("N") },
  { "system", 0, 0, G_OPTION_ARG_STRING, NULL,
    N_("A system prompt, for this run only"), N_("TEXT") },
  { "no-stream", 0, 0, G_OPTION_ARG_NONE, NULL,
    N_("Print the answer only once it is complete, instead of as it arrives"), NULL },
  { "version", 0, 0, G_OPTION_ARG_NONE, NULL,
    N_("Print the version and exit"), NULL },
  { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, NULL,
    NULL, N_("[IMAGE…]") },
  { NULL }
};

static GazeWindow *
get_or_create_window (GazeApplication *self)
{
  GtkWindow *window;

  g_assert (GAZE_IS_APPLICATION (self));

  window = gtk_application_get_active_window (GTK_APPLICATION (self));
  if (window == NULL)
    window = GTK_WINDOW (gaze_window_new (self));

  return GAZE_WINDOW (window);
}

static void
gaze_application_activate (GApplication *app)
{
  GazeApplication *self = GAZE_APPLICATION (app);

  g_assert (GAZE_IS_APPLICATION (self));

  gtk_window_present (GTK_WINDOW (get_or_create_window (self)));
}

static void
gaze_application_open (GApplication  *app,
                       GFile        **files,
                       int            n_files,
                       const char    *hint)
{
  GazeApplication *self = GAZE_APPLICATION (app);
  GazeWindow *window = get_or_create_window (self);

  g_assert (GAZE_IS_APPLICATION (self));
  g_assert (GAZE_IS_WINDOW (window));

  for (int i = 0; i < n_files; i++)
    gaze_window_attach_file (window, files[i]);

  gtk_window_present (GTK_WINDOW (window));
}

static int
gaze_application_handle_local_options (GApplication *app,
                                       GVariantDict *options)
{
  GazeApplication *self = GAZE_APPLICATION (app);
  g_autofree const char **files = NULL;

  g_assert (GAZE_IS_APPLICATION (self));

  if (g_variant_dict_contains (options, "version"))
    {
      g_print ("gaze %s\n", PACKAGE_VERSION);
      return 0;
    }

  g_variant_dict_lookup (options, G_OPTION_REMAINING, "^a&ay", &files);

  if (g_variant_dict_contains (options, "ask"))
    return gaze_cli_run (self->settings, self->client, options, files);

  /* Images named on the command line open the window with them attached;
   * the primary instance receives them through GApplication::open.
   */
  if (files != NULL && files[0] != NULL)
    {
      g_autoptr(GPtrArray) gfiles = g_ptr_array_new_with_free_func (g_object_unref);
      g_autoptr(GError) error = NULL;

      if (!g_application_register (app, NULL, &error))
        {
          g_printerr ("%s\n", error->message);
          return 1;
        }

      for (guint i = 0; files[i] != NULL; i++)
        g_ptr_array_add (gfiles, g_file_new_for_commandline_arg (files[i]));

      g_application_open (app, (GFile **)gfiles->pdata, gfiles->len, "");
    }

  return -1;
}

static void
gaze_application_dispose (GObject *object)
{
  GazeApplication *self = (GazeApplication *)object;

  g_assert (GAZE_IS_APPLICATION (self));

  g_clear_object (&self->client);
  g_clear_object (&self->image_cache);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (gaze_application_parent_class)->dispose (object);
}

static void
gaze_application_class_init (GazeApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->dispose = gaze_application_dispose;

  app_class->activate = gaze_application_activate;
  app_class->open = gaze_application_open;
  app_class->handle_local_options = gaze_application_handle_local_options;
}

static void
gaze_application_about_action (GSimpleAction *action,
                               GVariant      *parameter,
                               gpointer       user_data)
{
  const char *developers[] = { _("The Gaze developers"), NULL };
  GazeApplication *self = user_data;
  GtkWindow *window;

  g_assert (GAZE_IS_APPLICATION (self));

  window = gtk_application_get_active_window (GTK_APPLICATION (self));

  adw_show_about_window (window,
                         "application-name", _("Gaze"),
                         "application-icon", APP_ID,
                         "developer-name", _("The Gaze developers"),
                         "version", PACKAGE_VERSION,
                         "website", "https://github.com/gazeapp/gaze",
                         "issue-url", "https://github.com/gazeapp/gaze/issues",
                         "comments", _("Ask questions about your photos, answered by the vision "
                                       "model you deployed on Azure OpenAI."),
                         "developers", developers,
                         "copyright", _("© 2026 The Gaze developers"),
                         "license-type", GTK_LICENSE_GPL_3_0,
                         "translator-credits", _("translator-credits"),
                         NULL);
}

static void
gaze_application_preferences_action (GSimpleAction *action,
                                     GVariant      *parameter,
                                     gpointer       user_data)
{
  GazeApplication *self = user_data;
  GtkWindow *window;
  GazePreferencesWindow *preferences;

  g_assert (GAZE_IS_APPLICATION (self));

  window = gtk_application_get_active_window (GTK_APPLICATION (self));
  preferences = gaze_preferences_window_new (self->settings, self->client);
  gtk_window_set_transient_for (GTK_WINDOW (preferences), window);
  gtk_window_present (GTK_WINDOW (preferences));
}

static void
gaze_application_quit_action (GSimpleAction *action,
                              GVariant      *parameter,
                              gpointer       user_data)
{
  GazeApplication *self = user_data;
  GList *windows;

  g_assert (GAZE_IS_APPLICATION (self));

  /* Closing each window, rather than destroying it, lets it save its size;
   * its dispose cancels what it was doing.
   */
  windows = g_list_copy (gtk_application_get_windows (GTK_APPLICATION (self)));
  for (const GList *l = windows; l != NULL; l = l->next)
    gtk_window_close (l->data);
  g_list_free (windows);

  g_application_quit (G_APPLICATION (self));
}

static const GActionEntry app_actions[] = {
  { "quit", gaze_application_quit_action },
  { "about", gaze_application_about_action },
  { "preferences", gaze_application_preferences_action },
};

static void
gaze_application_init (GazeApplication *self)
{
  static const char *quit_accels[] = { "<primary>q", NULL };
  static const char *preferences_accels[] = { "<primary>comma", NULL };

  self->settings = g_settings_new (APP_ID);
  self->client = gaze_client_new ();
  self->image_cache = gaze_image_cache_new (GAZE_IMAGE_CACHE_DEFAULT_MAX_SIZE);

  g_application_add_main_option_entries (G_APPLICATION (self), option_entries);
  g_application_set_option_context_description (G_APPLICATION (self),
    _("Without --ask, Gaze opens its window with the images attached.\n"
      "The key comes from the environment variable AZURE_OPENAI_API_KEY, else from the settings.\n"
      "\n"
      "Exit status of --ask:\n"
      "  0 the answer was printed\n"
      "  2 the command line is wrong\n"
      "  3 an image could not be read\n"
      "  4 the key was refused or has no access\n"
      "  5 the deployment or the endpoint was not found\n"
      "  6 the service is rate limiting\n"
      "  7 the content filter blocked the question or the answer\n"
      "  8 the network failed, timed out or was not secure\n"
      "  9 the service failed or sent a reply Gaze cannot read\n"
      " 10 the answer was cut off, by the longest answer allowed or by the connection"));

  g_action_map_add_action_entries (G_ACTION_MAP (self),
                                   app_actions,
                                   G_N_ELEMENTS (app_actions),
                                   self);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.quit", quit_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self),
                                         "app.preferences",
                                         preferences_accels);
}

GazeApplication *
gaze_application_new (void)
{
  return g_object_new (GAZE_TYPE_APPLICATION,
                       "application-id", APP_ID,
                       "flags", G_APPLICATION_HANDLES_OPEN,
                       "resource-base-path", "/io/github/gazeapp/Gaze",
                       NULL);
}

GSettings *
gaze_application_get_settings (GazeApplication *self)
{
  g_return_val_if_fail (GAZE_IS_APPLICATION (self), NULL);

  return self->settings;
}

GazeClient *
gaze_application_get_client (GazeApplication *self)
{
  g_return_val_if_fail (GAZE_IS_APPLICATION (self), NULL);

  return self->client;
}

/**
 * gaze_application_get_image_cache:
 *
 * Returns: (transfer none): the photos prepared so far, shared by the windows
 */
GazeImageCache *
gaze_application_get_image_cache (GazeApplication *self)
{
  g_return_val_if_fail (GAZE_IS_APPLICATION (self), NULL);

  return self->image_cache;
}
