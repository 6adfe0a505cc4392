/* gaze-client.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "gaze-client"

#include "config.h"

#include <glib/gi18n.h>
#include <libsoup/soup.h>

#include "gaze-client.h"

#define USER_AGENT "Gaze/" PACKAGE_VERSION " "
#define IO_TIMEOUT_SECONDS 120
#define IDLE_TIMEOUT_SECONDS 60

struct _GazeClient
{
  GObject      parent_instance;

  SoupSession *session;
};

typedef struct
{
  SoupMessage *message;
  char        *host;
  char        *deployment;
} Exchange;

G_DEFINE_FINAL_TYPE (GazeClient, gaze_client, G_TYPE_OBJECT)

static void
exchange_free (gpointer data)
{
  Exchange *exchange = data;

  g_clear_object (&exchange->message);
  g_free (exchange->host);
  g_free (exchange->deployment);
  g_free (exchange);
}

static gboolean
is_secret_header (const char *line)
{
  return g_ascii_strncasecmp (line, "api-key:", 8) == 0 ||
         g_ascii_strncasecmp (line, "authorization:", 14) == 0;
}

/* SoupLogger prints every header as it is; the key must never reach a log. */
static void
log_printer (SoupLogger         *logger,
             SoupLoggerLogLevel  level,
             char                direction,
             const char         *data,
             gpointer            user_data)
{
  if (is_secret_header (data))
    {
      g_autofree char *name = g_strndup (data, strchr (data, ':') - data);

      g_debug ("%c %s: [REDACTED]", direction, name);
      return;
    }

  g_debug ("%c %s", direction, data);
}

static void
gaze_client_finalize (GObject *object)
{
  GazeClient *self = (GazeClient *)object;

  g_clear_object (&self->session);

  G_OBJECT_CLASS (gaze_client_parent_class)->finalize (object);
}

static void
gaze_client_class_init (GazeClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = gaze_client_finalize;
}

static void
gaze_client_init (GazeClient *self)
{
  self->session = soup_session_new_with_options ("user-agent", USER_AGENT,
                                                 "timeout", IO_TIMEOUT_SECONDS,
                                                 "idle-timeout", IDLE_TIMEOUT_SECONDS,
                                                 NULL);

  if (g_getenv ("G_MESSAGES_DEBUG") != NULL)
    {
      g_autoptr(SoupLogger) logger = soup_logger_new (SOUP_LOGGER_LOG_HEADERS);

      soup_logger_set_printer (logger, log_printer, NULL, NULL);
      soup_session_add_feature (self->session, SOUP_SESSION_FEATURE (logger));
    }
}

/**
 * gaze_client_new:
 *
 * The app has one client; it keeps connections to the service open
 * between requests.
 *
 * Returns: (transfer full): a new #GazeClient
 */
GazeClient *
gaze_client_new (void)
{
  return g_object_new (GAZE_TYPE_CLIENT, NULL);
}

static GError *
error_from_transport (const GError   *error,
                      const Exchange *exchange)
{
  if (error->domain == G_TLS_ERROR)
    return gaze_client_error_new_literal (GAZE_CLIENT_ERROR_TLS,
                                          _("The connection to the endpoint is not secure: its certificate was not accepted, so Gaze sent nothing. Check the endpoint in Preferences."),
                                          NULL);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    return gaze_client_error_new_literal (GAZE_CLIENT_ERROR_TIMEOUT,
                                          _("Azure OpenAI did not answer in time. Try again in a moment."),
                                          NULL);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT) ||
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED) ||
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE))
    return gaze_client_error_new_literal (GAZE_CLIENT_ERROR_NETWORK,
                                          _("The connection broke before the answer arrived. Check your internet connection and try again."),
                                          NULL);

  if (error->domain == G_RESOLVER_ERROR)
    {
      g_autofree char *message = g_strdup_printf (_("Gaze could not find “%s”. Check the resource name in Preferences and your internet connection."),
                                                  exchange->host);

      return gaze_client_error_new_literal (GAZE_CLIENT_ERROR_NETWORK, message, NULL);
    }

  {
    g_autofree char *message = g_strdup_printf (_("Gaze could not reach “%s”. Check your internet connection and the endpoint in Preferences."),
                                                exchange->host);

    return gaze_client_error_new_literal (GAZE_CLIENT_ERROR_NETWORK, message, NULL);
  }
}

static const char *
get_request_id (SoupMessageHeaders *headers)
{
  const char *id = soup_message_headers_get_one (headers, "apim-request-id");

  return id ? id : soup_message_headers_get_one (headers, "x-request-id");
}

static void
gaze_client_send_and_read_cb (GObject      *object,
                              GAsyncResult *result,
                              gpointer      user_data)
{
  SoupSession *session = (SoupSession *)object;
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GazeReply) reply = NULL;
  Exchange *exchange = g_task_get_task_data (task);
  SoupMessageHeaders *headers;
  const char *request_id;
  guint status;

  g_assert (SOUP_IS_SESSION (session));
  g_assert (G_IS_TASK (task));

  if (!(body = soup_session_send_and_read_finish (session, result, &error)))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_task_return_error (task, g_steal_pointer (&error));
      else
        g_task_return_error (task, error_from_transport (error, exchange));
      return;
    }

  status = soup_message_get_status (exchange->message);
  headers = soup_message_get_response_headers (exchange->message);
  request_id = get_request_id (headers);

  g_debug ("HTTP %u, %" G_GSIZE_FORMAT " bytes, request id %s",
           status, g_bytes_get_size (body), request_id ? request_id : "(none)");

  if (!SOUP_STATUS_IS_SUCCESSFUL (status))
    {
      g_task_return_error (task,
                           gaze_client_error_new_from_http (status,
                                                            body,
                                                            exchange->deployment,
                                                            soup_message_headers_get_one (headers, "Retry-After"),
                                                            soup_message_headers_get_one (headers, "retry-after-ms"),
                                                            request_id));
      return;
    }

  if (!(reply = gaze_reply_parse (body, &error)))
    {
      g_task_return_error (task,
                           gaze_client_error_new_literal (error->code, error->message, request_id));
      return;
    }

  reply->request_id = g_strdup (request_id);
  g_task_return_pointer (task, g_steal_pointer (&reply), (GDestroyNotify)gaze_reply_free);
}

/**
 * gaze_client_complete_async:
 * @self: a #GazeClient
 * @endpoint: a resolved endpoint (with deployment and api-version)
 * @api_key: the key of the resource
 * @request: what to send
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when the answer has arrived or the request failed
 * @user_data: data for @callback
 *
 * Sends @request to the deployment's chat completions and reads the whole
 * answer.
 */
void
gaze_client_complete_async (GazeClient          *self,
                            const GazeEndpoint  *endpoint,
                            const char          *api_key,
                            GazeRequest         *request,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GUri) uri = NULL;
  g_autofree char *uri_string = NULL;
  SoupMessageHeaders *headers;
  Exchange *exchange;

  g_return_if_fail (GAZE_IS_CLIENT (self));
  g_return_if_fail (endpoint != NULL);
  g_return_if_fail (endpoint->deployment != NULL);
  g_return_if_fail (api_key != NULL);
  g_return_if_fail (GAZE_IS_REQUEST (request));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, gaze_client_complete_async);

  uri_string = gaze_endpoint_dup_chat_uri (endpoint);
  uri = g_uri_parse (uri_string, SOUP_HTTP_URI_FLAGS, NULL);
  if (uri == NULL)
    {
      g_task_return_error (task,
                           gaze_client_error_new_literal (GAZE_CLIENT_ERROR_ENDPOINT_NOT_FOUND,
                                                          _("The endpoint or the deployment name contains characters that cannot be part of an address. Check them in Preferences."),
                                                          NULL));
      return;
    }

  exchange = g_new0 (Exchange, 1);
  exchange->message = soup_message_new_from_uri (SOUP_METHOD_POST, uri);
  exchange->host = g_strdup (g_uri_get_host (uri));
  exchange->deployment = g_strdup (endpoint->deployment);
  g_task_set_task_data (task, exchange, exchange_free);

  headers = soup_message_get_request_headers (exchange->message);
  soup_message_headers_replace (headers, "api-key", api_key);
  soup_message_headers_replace (headers, "Accept", "application/json");

  body = gaze_request_to_bytes (request);
  soup_message_set_request_body_from_bytes (exchange->message, "application/json", body);

  g_debug ("Sending %" G_GSIZE_FORMAT " bytes to deployment “%s”",
           g_bytes_get_size (body), endpoint->deployment);

  soup_session_send_and_read_async (self->session,
                                    exchange->message,
                                    G_PRIORITY_DEFAULT,
                                    cancellable,
                                    gaze_client_send_and_read_cb,
                                    g_steal_pointer (&task));
}

/**
 * gaze_client_complete_finish:
 * @self: a #GazeClient
 * @result: the result given to the callback
 * @error: a location for a #GError in %GAZE_CLIENT_ERROR or %G_IO_ERROR_CANCELLED
 *
 * Returns: (transfer full): the answer, or %NULL with @error set
 */
GazeReply *
gaze_client_complete_finish (GazeClient    *self,
                             GAsyncResult  *result,
                             GError       **error)
{
  g_return_val_if_fail (GAZE_IS_CLIENT (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == gaze_client_complete_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
