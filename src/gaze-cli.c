/* gaze-cli.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "gaze-cli"

#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>

#include "gaze-cli.h"
#include "gaze-endpoint.h"
#include "gaze-image.h"

typedef struct
{
  GMainLoop *loop;
  GObject   *object;
  GError    *error;
  gpointer   result;
} Wait;

/* What has gone to standard output, so that the answer ends its line. */
typedef struct
{
  gboolean printed;
  gboolean at_line_start;
} Output;

static void
print_sentence (const char *message)
{
  g_printerr ("%s\n", message);
}

int
gaze_cli_exit_code_for_error (const GError *error)
{
  g_return_val_if_fail (error != NULL, GAZE_EXIT_SERVICE);

  if (error->domain == GAZE_IMAGE_ERROR)
    return GAZE_EXIT_IMAGE;

  if (error->domain == GAZE_ENDPOINT_ERROR)
    return GAZE_EXIT_USAGE;

  if (error->domain != GAZE_CLIENT_ERROR)
    return GAZE_EXIT_SERVICE;

  switch ((GazeClientError)error->code)
    {
    case GAZE_CLIENT_ERROR_UNAUTHORIZED:
    case GAZE_CLIENT_ERROR_FORBIDDEN:
      return GAZE_EXIT_AUTH;

    case GAZE_CLIENT_ERROR_DEPLOYMENT_NOT_FOUND:
    case GAZE_CLIENT_ERROR_ENDPOINT_NOT_FOUND:
      return GAZE_EXIT_NOT_FOUND;

    case GAZE_CLIENT_ERROR_RATE_LIMITED:
      return GAZE_EXIT_RATE_LIMITED;

    case GAZE_CLIENT_ERROR_CONTENT_FILTERED:
      return GAZE_EXIT_FILTERED;

    case GAZE_CLIENT_ERROR_NETWORK:
    case GAZE_CLIENT_ERROR_TLS:
    case GAZE_CLIENT_ERROR_TIMEOUT:
      return GAZE_EXIT_NETWORK;

    case GAZE_CLIENT_ERROR_BAD_REQUEST:
    case GAZE_CLIENT_ERROR_SERVER_ERROR:
    case GAZE_CLIENT_ERROR_HTTP:
    case GAZE_CLIENT_ERROR_UNREADABLE_REPLY:
    default:
      return GAZE_EXIT_SERVICE;
    }
}

static void
image_prepared_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  Wait *wait = user_data;

  g_assert (G_IS_ASYNC_RESULT (result));
  g_assert (wait != NULL);

  wait->result = gaze_image_prepare_finish (result, &wait->error);
  g_main_loop_quit (wait->loop);
}

static void
complete_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  Wait *wait = user_data;

  g_assert (GAZE_IS_CLIENT (object));
  g_assert (G_IS_ASYNC_RESULT (result));
  g_assert (wait != NULL);

  wait->result = gaze_client_complete_finish (GAZE_CLIENT (object), result, &wait->error);
  g_main_loop_quit (wait->loop);
}

static void
stream_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  Wait *wait = user_data;

  g_assert (GAZE_IS_CLIENT (object));
  g_assert (G_IS_ASYNC_RESULT (result));
  g_assert (wait != NULL);

  wait->result = gaze_client_stream_finish (GAZE_CLIENT (object), result, &wait->error);
  g_main_loop_quit (wait->loop);
}

static void
output_print (Output     *output,
              const char *text)
{
  gsize length = strlen (text);

  if (length == 0)
    return;

  fwrite (text, 1, length, stdout);
  fflush (stdout);
  output->printed = TRUE;
  output->at_line_start = text[length - 1] == '\n';
}

/* Each piece of a streamed answer goes out the moment it arrives. */
static void
delta_cb (const char *delta,
          gpointer    user_data)
{
  output_print (user_data, delta);
}

static void
output_end_line (Output *output)
{
  if (output->printed && !output->at_line_start)
    {
      fputc ('\n', stdout);
      fflush (stdout);
      output->at_line_start = TRUE;
    }
}

static char *
dup_option (GVariantDict *options,
            GSettings    *settings,
            const char   *option,
            const char   *key)
{
  char *value = NULL;

  if (g_variant_dict_lookup (options, option, "s", &value))
    return value;

  return g_settings_get_string (settings, key);
}

static char *
dup_api_key (GSettings *settings)
{
  const char *from_env = g_getenv ("AZURE_OPENAI_API_KEY");

  if (from_env != NULL && from_env[0] != '\0')
    return g_strdup (from_env);

  return g_settings_get_string (settings, "api-key");
}

/**
 * gaze_cli_run:
 * @settings: the app's settings, which options override for this run only
 * @client: the app's client
 * @options: the parsed command line
 * @files: (nullable) (array zero-terminated=1): the images, as given
 *
 * Runs `gaze --ask`: prepares the images, sends the question, prints the
 * answer on standard output as it arrives (or all at once with
 * --no-stream). Every failure prints one sentence on standard
 * error and returns an exit code that says which kind of failure it was.
 *
 * Returns: the exit code
 */
int
gaze_cli_run (GSettings     *settings,
              GazeClient    *client,
              GVariantDict  *options,
              const char   **files)
{
  g_autoptr(GMainLoop) loop = NULL;
  g_autoptr(GazeEndpoint) endpoint = NULL;
  g_autoptr(GazeRequest) request = NULL;
  g_autoptr(GazeReply) reply = NULL;
  g_autofree char *filter_note = NULL;
  g_autoptr(GPtrArray) images = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *question = NULL;
  g_autofree char *endpoint_text = NULL;
  g_autofree char *deployment = NULL;
  g_autofree char *api_version = NULL;
  g_autofree char *detail_text = NULL;
  g_autofree char *system_prompt = NULL;
  g_autofree char *api_key = NULL;
  GazeDetail detail;
  g_autofree char *max_tokens_text = NULL;
  gint64 max_tokens;
  gboolean no_stream = FALSE;
  Output output = { FALSE, TRUE };
  Wait wait = { 0 };

  g_return_val_if_fail (G_IS_SETTINGS (settings), GAZE_EXIT_USAGE);
  g_return_val_if_fail (GAZE_IS_CLIENT (client), GAZE_EXIT_USAGE);
  g_return_val_if_fail (options != NULL, GAZE_EXIT_USAGE);

  g_variant_dict_lookup (options, "ask", "s", &question);
  if (question == NULL || g_strstrip (question)[0] == '\0')
    {
      print_sentence (_("Give a question after --ask, for example: "
                        "gaze --ask \"What is in this picture?\" photo.jpg"));
      return GAZE_EXIT_USAGE;
    }

  detail_text = dup_option (options, settings, "detail", "detail");
  if (!gaze_detail_from_string (detail_text, &detail))
    {
      print_sentence (_("--detail takes low, high or auto."));
      return GAZE_EXIT_USAGE;
    }

  /* A string option, because GApplication drops an int option set to 0. */
  if (g_variant_dict_lookup (options, "max-tokens", "s", &max_tokens_text))
    {
      if (!g_ascii_string_to_signed (max_tokens_text, 10, 1, 16384, &max_tokens, NULL))
        max_tokens = -1;
    }
  else
    {
      max_tokens = g_settings_get_uint (settings, "max-tokens");
    }

  if (max_tokens < 1 || max_tokens > 16384)
    {
      print_sentence (_("--max-tokens takes a number from 1 to 16384."));
      return GAZE_EXIT_USAGE;
    }

  endpoint_text = dup_option (options, settings, "endpoint", "endpoint");
  deployment = dup_option (options, settings, "deployment", "deployment");
  api_version = dup_option (options, settings, "api-version", "api-version");

  if (!(endpoint = gaze_endpoint_resolve (endpoint_text, deployment, api_version, &error)))
    {
      print_sentence (error->message);
      return GAZE_EXIT_USAGE;
    }

  /* An explicit option wins over what a pasted target URI named. */
  if (g_variant_dict_contains (options, "deployment") && deployment[0] != '\0')
    {
      g_free (endpoint->deployment);
      endpoint->deployment = g_strdup (g_strstrip (deployment));
    }
  if (g_variant_dict_contains (options, "api-version") && api_version[0] != '\0')
    {
      g_free (endpoint->api_version);
      endpoint->api_version = g_strdup (g_strstrip (api_version));
    }

  api_key = dup_api_key (settings);
  if (api_key[0] == '\0')
    {
      print_sentence (_("No API key is set. Put it in the environment variable "
                        "AZURE_OPENAI_API_KEY, or enter it in Gaze’s Preferences."));
      return GAZE_EXIT_AUTH;
    }

  loop = g_main_loop_new (NULL, FALSE);
  wait.loop = loop;
  images = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; files != NULL && files[i] != NULL; i++)
    {
      g_autoptr(GFile) file = g_file_new_for_commandline_arg (files[i]);

      gaze_image_prepare_file_async (file, detail, NULL, image_prepared_cb, &wait);
      g_main_loop_run (loop);

      if (wait.error != NULL)
        {
          print_sentence (wait.error->message);
          g_clear_error (&wait.error);
          return GAZE_EXIT_IMAGE;
        }

      g_ptr_array_add (images, g_steal_pointer (&wait.result));
    }

  system_prompt = dup_option (options, settings, "system", "system-prompt");

  request = gaze_request_new (endpoint->api_version);
  gaze_request_set_system_prompt (request, system_prompt);
  gaze_request_set_max_tokens (request, (guint)max_tokens);
  gaze_request_add_user_message (request, question, images);

  /* By default the answer streams, so that it shows as it is written. */
  g_variant_dict_lookup (options, "no-stream", "b", &no_stream);

  if (no_stream)
    gaze_client_complete_async (client, endpoint, api_key, request, NULL, complete_cb, &wait);
  else
    gaze_client_stream_async (client, endpoint, api_key, request,
                              delta_cb, &output, NULL,
                              NULL, stream_cb, &wait);
  g_main_loop_run (loop);

  if (wait.error != NULL)
    {
      int code = gaze_cli_exit_code_for_error (wait.error);

      /* What arrived before the error stays printed, on its own line. */
      output_end_line (&output);
      print_sentence (wait.error->message);
      g_clear_error (&wait.error);
      return code;
    }

  reply = wait.result;

  if (no_stream)
    output_print (&output, reply->content);
  output_end_line (&output);

  if ((filter_note = gaze_reply_dup_filter_note (reply)) != NULL)
    {
      print_sentence (filter_note);
      return GAZE_EXIT_FILTERED;
    }

  if (reply->truncated)
    {
      print_sentence (_("The answer was cut off: the connection ended before Azure OpenAI "
                        "had finished it. Try again."));
      return GAZE_EXIT_CUT_OFF;
    }

  if (g_strcmp0 (reply->finish_reason, "length") == 0)
    {
      print_sentence (_("The answer was cut off at the longest answer allowed. "
                        "Raise it with --max-tokens or in Preferences."));
      return GAZE_EXIT_CUT_OFF;
    }

  return GAZE_EXIT_OK;
}
