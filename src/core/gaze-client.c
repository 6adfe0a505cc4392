/* gaze-client.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "gaze-client"

#include "config.h"

#include <string.h>
#include <glib/gi18n.h>
#include <libsoup/soup.h>

#include "gaze-client.h"
#include "gaze-client-private.h"
#include "gaze-stream.h"

#define USER_AGENT "Gaze/" PACKAGE_VERSION " "
#define IO_TIMEOUT_SECONDS 120
#define IDLE_TIMEOUT_SECONDS 60

/* A streamed answer that sends nothing for this long has stalled. The
 * wait for it to start is the client's timeout: a large upload and a
 * long think before the first event are normal.
 */
#define DEFAULT_STREAM_IDLE_TIMEOUT_MS (60 * 1000)
#define READ_SIZE (16 * 1024)
#define BODY_READ_SIZE (64 * 1024)

/* Error bodies are a few hundred bytes; a whole answer is no larger than
 * the largest event the stream parser takes. Neither may fill the memory,
 * whatever the server sends.
 */
#define MAX_ERROR_BODY (64 * 1024)
#define DEFAULT_MAX_REPLY_SIZE (16 * 1024 * 1024)

struct _GazeClient
{
  GObject      parent_instance;

  SoupSession *session;
  guint        stream_idle_timeout;
  gsize        max_reply_size;
  gsize        max_download_size;
};

enum {
  PROP_0,
  PROP_STREAM_IDLE_TIMEOUT,
  PROP_TIMEOUT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

typedef struct
{
  SoupMessage  *message;
  char         *host;
  char         *deployment;

  /* Cancelled by the caller's cancellable and by the client's own timers,
   * so that whatever is in flight answers to all of them.
   */
  GCancellable *cancellable;
  GCancellable *caller_cancellable;
  gulong        cancelled_id;

  /* From sending until the answer's headers, but for the upload of the
   * body; see exchange_start_deadline(). */
  GSource      *deadline;
  GMainContext *context;
  guint         timeout;
  guint         deadline_passed : 1;
} Exchange;

G_DEFINE_FINAL_TYPE (GazeClient, gaze_client, G_TYPE_OBJECT)

/* The client's own timers, which run in the context of a request's task. */
static GSource *
timer_start (guint         ms,
             GSourceFunc   func,
             gpointer      data,
             const char   *static_name,
             GMainContext *context)
{
  GSource *source = g_timeout_source_new (ms);

  g_source_set_callback (source, func, data, NULL);
  g_source_set_static_name (source, static_name);
  g_source_attach (source, context);

  return source;
}

static void
timer_stop (GSource **source)
{
  if (*source != NULL)
    {
      g_source_destroy (*source);
      g_clear_pointer (source, g_source_unref);
    }
}

static void
exchange_stop_deadline (Exchange *exchange)
{
  timer_stop (&exchange->deadline);
}

static void
exchange_free (gpointer data)
{
  Exchange *exchange = data;

  exchange_stop_deadline (exchange);
  if (exchange->message != NULL)
    g_signal_handlers_disconnect_by_data (exchange->message, exchange);
  g_clear_pointer (&exchange->context, g_main_context_unref);

  if (exchange->caller_cancellable != NULL)
    g_cancellable_disconnect (exchange->caller_cancellable, exchange->cancelled_id);
  g_clear_object (&exchange->caller_cancellable);
  g_clear_object (&exchange->cancellable);

  g_clear_object (&exchange->message);
  g_free (exchange->host);
  g_free (exchange->deployment);
  g_free (exchange);
}

static gboolean
exchange_deadline_cb (gpointer user_data)
{
  Exchange *exchange = user_data;

  g_debug ("“%s” did not answer in time; giving up", exchange->host);

  g_clear_pointer (&exchange->deadline, g_source_unref);
  exchange->deadline_passed = TRUE;
  g_cancellable_cancel (exchange->cancellable);

  return G_SOURCE_REMOVE;
}

/* libsoup's timeout bounds each step on the socket, but not the name
 * lookup before it: GIO gives the resolver no deadline, and the system's
 * own may be half a minute or more. So the wait for the answer to start
 * has a deadline of the same length: once until the request's headers are
 * written (lookup, connecting, TLS), and once more from the end of the
 * body until the answer's headers arrive (the service's think). The upload
 * in between is not counted, so that ten photos on a slow line are not cut
 * short while they still move, nor is an answer once it has started: each
 * step of those is bounded by libsoup's own timeout.
 */
static void
exchange_start_deadline (Exchange *exchange)
{
  g_assert (exchange->deadline == NULL);

  if (exchange->timeout == 0)
    return;

  exchange->deadline = timer_start (MIN (exchange->timeout, G_MAXUINT / 1000) * 1000,
                                    exchange_deadline_cb, exchange,
                                    "[gaze-client] answer deadline", exchange->context);
}

static void
exchange_wrote_headers_cb (SoupMessage *message,
                           Exchange    *exchange)
{
  g_assert (SOUP_IS_MESSAGE (message));

  exchange_stop_deadline (exchange);
}

static void
exchange_wrote_body_cb (SoupMessage *message,
                        Exchange    *exchange)
{
  g_assert (SOUP_IS_MESSAGE (message));

  exchange_stop_deadline (exchange);
  exchange_start_deadline (exchange);
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
gaze_client_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  GazeClient *self = GAZE_CLIENT (object);

  switch (prop_id)
    {
    case PROP_STREAM_IDLE_TIMEOUT:
      g_value_set_uint (value, self->stream_idle_timeout);
      break;

    case PROP_TIMEOUT:
      g_value_set_uint (value, gaze_client_get_timeout (self));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
gaze_client_set_property (GObject      *object,
                          guint         prop_id,
                          const GValue *value,
                          GParamSpec   *pspec)
{
  GazeClient *self = GAZE_CLIENT (object);

  switch (prop_id)
    {
    case PROP_STREAM_IDLE_TIMEOUT:
      gaze_client_set_stream_idle_timeout (self, g_value_get_uint (value));
      break;

    case PROP_TIMEOUT:
      gaze_client_set_timeout (self, g_value_get_uint (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
gaze_client_class_init (GazeClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = gaze_client_finalize;
  object_class->get_property = gaze_client_get_property;
  object_class->set_property = gaze_client_set_property;

  /**
   * GazeClient:stream-idle-timeout:
   *
   * How long, in milliseconds, a streamed answer may send nothing before
   * the client gives up on it with %GAZE_CLIENT_ERROR_TIMEOUT; 0 waits
   * for ever.
   */
  properties[PROP_STREAM_IDLE_TIMEOUT] =
    g_param_spec_uint ("stream-idle-timeout", NULL, NULL,
                       0, G_MAXUINT, DEFAULT_STREAM_IDLE_TIMEOUT_MS,
                       (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * GazeClient:timeout:
   *
   * How long, in seconds, a request may wait for its answer to start
   * (looking the name up, connecting with TLS, sending and the service's
   * think, all together) and then each read of the answer, before it
   * fails with %GAZE_CLIENT_ERROR_TIMEOUT; 0 waits for ever.
   */
  properties[PROP_TIMEOUT] =
    g_param_spec_uint ("timeout", NULL, NULL,
                       0, G_MAXUINT, IO_TIMEOUT_SECONDS,
                       (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
gaze_client_init (GazeClient *self)
{
  self->stream_idle_timeout = DEFAULT_STREAM_IDLE_TIMEOUT_MS;
  self->max_reply_size = DEFAULT_MAX_REPLY_SIZE;
  self->max_download_size = GAZE_CLIENT_MAX_DOWNLOAD_SIZE;

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

guint
gaze_client_get_stream_idle_timeout (GazeClient *self)
{
  g_return_val_if_fail (GAZE_IS_CLIENT (self), 0);

  return self->stream_idle_timeout;
}

/**
 * gaze_client_set_stream_idle_timeout:
 * @self: a #GazeClient
 * @ms: how long a stream may send nothing, in milliseconds; 0 for ever
 *
 * Applies to the streams started afterwards.
 */
void
gaze_client_set_stream_idle_timeout (GazeClient *self,
                                     guint       ms)
{
  g_return_if_fail (GAZE_IS_CLIENT (self));

  if (self->stream_idle_timeout == ms)
    return;

  self->stream_idle_timeout = ms;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STREAM_IDLE_TIMEOUT]);
}

guint
gaze_client_get_timeout (GazeClient *self)
{
  g_return_val_if_fail (GAZE_IS_CLIENT (self), 0);

  return soup_session_get_timeout (self->session);
}

/**
 * gaze_client_set_timeout:
 * @self: a #GazeClient
 * @seconds: how long a request may wait for its answer to start, and
 *   then each read; 0 for ever
 *
 * Applies to the requests sent afterwards; the session keeps the value,
 * so that there is only one.
 */
void
gaze_client_set_timeout (GazeClient *self,
                         guint       seconds)
{
  g_return_if_fail (GAZE_IS_CLIENT (self));

  if (soup_session_get_timeout (self->session) == seconds)
    return;

  soup_session_set_timeout (self->session, seconds);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TIMEOUT]);
}

void
gaze_client_set_max_reply_size (GazeClient *self,
                                gsize       size)
{
  g_return_if_fail (GAZE_IS_CLIENT (self));
  g_return_if_fail (size > 0);

  self->max_reply_size = size;
}

void
gaze_client_set_max_download_size (GazeClient *self,
                                   gsize       size)
{
  g_return_if_fail (GAZE_IS_CLIENT (self));
  g_return_if_fail (size > 0);

  self->max_download_size = size;
}

/* Reading a whole body, up to a cap */

typedef struct
{
  GByteArray *body;
  guint8     *buffer;
  gsize       limit;
  gboolean    keep_start;
  GError     *error;
} BodyRead;

static void
body_read_free (gpointer data)
{
  BodyRead *read = data;

  g_clear_pointer (&read->body, g_byte_array_unref);
  g_clear_pointer (&read->buffer, g_free);
  g_clear_error (&read->error);
  g_free (read);
}

static void
body_read_closed_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  GInputStream *input = (GInputStream *)object;
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  BodyRead *read = g_task_get_task_data (task);

  g_assert (G_IS_INPUT_STREAM (input));
  g_assert (G_IS_TASK (task));

  /* What was read stands, however the closing went. */
  if (!g_input_stream_close_finish (input, result, &error))
    g_debug ("Closing a body: %s", error->message);

  if (read->error != NULL)
    g_task_return_error (task, g_steal_pointer (&read->error));
  else
    g_task_return_pointer (task,
                           g_byte_array_free_to_bytes (g_steal_pointer (&read->body)),
                           (GDestroyNotify)g_bytes_unref);
}

/* Closed before its end, a body is not read any further: libsoup drops
 * the connection rather than read the rest to keep it.
 */
static void
body_read_close (GTask *task)
{
  GInputStream *input = g_task_get_source_object (task);

  g_input_stream_close_async (input, g_task_get_priority (task), NULL, body_read_closed_cb, task);
}

static void body_read_cb (GObject      *object,
                          GAsyncResult *result,
                          gpointer      user_data);

static void
body_read_next (GTask *task)
{
  BodyRead *read = g_task_get_task_data (task);

  g_input_stream_read_async (g_task_get_source_object (task),
                             read->buffer,
                             BODY_READ_SIZE,
                             g_task_get_priority (task),
                             g_task_get_cancellable (task),
                             body_read_cb,
                             task);
}

static void
body_read_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  GInputStream *input = (GInputStream *)object;
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  BodyRead *read = g_task_get_task_data (task);
  gssize n_read;

  g_assert (G_IS_INPUT_STREAM (input));
  g_assert (G_IS_TASK (task));

  if ((n_read = g_input_stream_read_finish (input, result, &error)) < 0)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  if (n_read == 0)
    {
      body_read_close (g_steal_pointer (&task));
      return;
    }

  /* Checked before the bytes are kept, so that no more than the cap is
   * ever held.
   */
  if ((gsize)n_read > read->limit - read->body->len)
    {
      if (read->keep_start)
        g_byte_array_append (read->body, read->buffer, read->limit - read->body->len);
      else
        read->error = g_error_new (G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE,
                                   "The body is larger than %" G_GSIZE_FORMAT " bytes",
                                   read->limit);

      body_read_close (g_steal_pointer (&task));
      return;
    }

  g_byte_array_append (read->body, read->buffer, n_read);
  body_read_next (g_steal_pointer (&task));
}

/* Reads @input to its end, but keeps no more than @limit bytes of it: past
 * them, it fails with %G_IO_ERROR_MESSAGE_TOO_LARGE or, with @keep_start,
 * ends with the first @limit bytes. Either way it stops reading there and
 * closes @input, so that a server that sends without end costs no more
 * than the cap. A Content-Length is no help: a chunked body has none.
 */
static void
body_read_async (GInputStream        *input,
                 gsize                limit,
                 gboolean             keep_start,
                 int                  priority,
                 GCancellable        *cancellable,
                 GAsyncReadyCallback  callback,
                 gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  BodyRead *read;

  g_assert (G_IS_INPUT_STREAM (input));
  g_assert (limit > 0);

  task = g_task_new (input, cancellable, callback, user_data);
  g_task_set_source_tag (task, body_read_async);
  g_task_set_priority (task, priority);

  read = g_new0 (BodyRead, 1);
  read->body = g_byte_array_new ();
  read->buffer = g_malloc (BODY_READ_SIZE);
  read->limit = limit;
  read->keep_start = keep_start;
  g_task_set_task_data (task, read, body_read_free);

  body_read_next (g_steal_pointer (&task));
}

static GBytes *
body_read_finish (GInputStream  *input,
                  GAsyncResult  *result,
                  GError       **error)
{
  g_assert (g_task_is_valid (result, input));
  g_assert (g_task_get_source_tag (G_TASK (result)) == body_read_async);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
input_closed_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (!g_input_stream_close_finish (G_INPUT_STREAM (object), result, &error))
    g_debug ("Closing an unread body: %s", error->message);
}

/* For a body not worth reading at all; see body_read_close(). */
static void
input_close_unread (GInputStream *input)
{
  g_input_stream_close_async (input, G_PRIORITY_DEFAULT, NULL, input_closed_cb, NULL);
}

static const char *
get_request_id (SoupMessageHeaders *headers)
{
  const char *id = soup_message_headers_get_one (headers, "apim-request-id");

  return id ? id : soup_message_headers_get_one (headers, "x-request-id");
}

static const char *
exchange_get_request_id (Exchange *exchange)
{
  return get_request_id (soup_message_get_response_headers (exchange->message));
}

/* A transport error says what to check. If the answer had started, its
 * headers carry the id that support asks for.
 */
static GError *
error_from_transport (const GError *error,
                      Exchange     *exchange)
{
  const char *request_id = exchange_get_request_id (exchange);

  if (error->domain == G_TLS_ERROR)
    return gaze_client_error_new_literal (GAZE_CLIENT_ERROR_TLS,
                                          _("The connection to the endpoint is not secure: its "
                                            "certificate was not accepted, so Gaze sent nothing. "
                                            "Check the endpoint in Preferences."),
                                          request_id);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    return gaze_client_error_new_literal (GAZE_CLIENT_ERROR_TIMEOUT,
                                          _("Azure OpenAI did not answer in time. "
                                            "Try again in a moment."),
                                          request_id);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT) ||
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED) ||
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE))
    return gaze_client_error_new_literal (GAZE_CLIENT_ERROR_NETWORK,
                                          _("The connection broke before the answer arrived. "
                                            "Check your internet connection and try again."),
                                          request_id);

  if (error->domain == G_RESOLVER_ERROR)
    {
      g_autofree char *message = g_strdup_printf (_("Gaze could not find “%s”. Check "
                                                    "the resource name in Preferences and "
                                                    "your internet connection."),
                                                  exchange->host);

      return gaze_client_error_new_literal (GAZE_CLIENT_ERROR_NETWORK, message, request_id);
    }

  {
    g_autofree char *message = g_strdup_printf (_("Gaze could not reach “%s”. Check "
                                                  "your internet connection and the "
                                                  "endpoint in Preferences."),
                                                exchange->host);

    return gaze_client_error_new_literal (GAZE_CLIENT_ERROR_NETWORK, message, request_id);
  }
}

/* A whole answer larger than any answer is not one. */

static void
caller_cancelled_cb (GCancellable *caller_cancellable,
                     gpointer      user_data)
{
  g_cancellable_cancel (G_CANCELLABLE (user_data));
}

/* One request to @uri, answering to @caller_cancellable and to the
 * client's own timers. */
static Exchange *
exchange_new_for_uri (const char   *method,
                      GUri         *uri,
                      const char   *deployment,
                      GCancellable *caller_cancellable)
{
  Exchange *exchange;

  exchange = g_new0 (Exchange, 1);
  exchange->message = soup_message_new_from_uri (method, uri);
  exchange->host = g_strdup (g_uri_get_host (uri));
  exchange->deployment = g_strdup (deployment);
  exchange->cancellable = g_cancellable_new ();

  if (caller_cancellable != NULL)
    {
      exchange->caller_cancellable = g_object_ref (caller_cancellable);
      exchange->cancelled_id = g_cancellable_connect (caller_cancellable,
                                                      G_CALLBACK (caller_cancelled_cb),
                                                      g_object_ref (exchange->cancellable),
                                                      g_object_unref);
    }

  return exchange;
}

/* Both ways of asking send the same message; only what they accept back
 * differs. Its body comes later, from a worker: see exchange_set_body().
 */
static Exchange *
exchange_new (const GazeEndpoint  *endpoint,
              const char          *api_key,
              GazeRequest         *request,
              const char          *accept,
              GCancellable        *caller_cancellable,
              GError             **error)
{
  g_autoptr(GUri) uri = NULL;
  g_autofree char *uri_string = NULL;
  SoupMessageHeaders *headers;
  Exchange *exchange;

  /* Too many photos, or too large a body, is said before anything is sent. */
  if (!gaze_request_check (request, error))
    return NULL;

  uri_string = gaze_endpoint_dup_chat_uri (endpoint);
  uri = g_uri_parse (uri_string, SOUP_HTTP_URI_FLAGS, NULL);
  if (uri == NULL)
    {
      g_propagate_error (error,
                         gaze_client_error_new_literal (GAZE_CLIENT_ERROR_ENDPOINT_NOT_FOUND,
                                                        _("The endpoint or the deployment name "
                                                          "contains characters that cannot be "
                                                          "part of an address. Check them in "
                                                          "Preferences."),
                                                        NULL));
      return NULL;
    }

  exchange = exchange_new_for_uri (SOUP_METHOD_POST, uri, endpoint->deployment, caller_cancellable);

  headers = soup_message_get_request_headers (exchange->message);
  soup_message_headers_replace (headers, "api-key", api_key);
  soup_message_headers_replace (headers, "Accept", accept);

  return exchange;
}

static void
exchange_set_body (Exchange *exchange,
                   GBytes   *body)
{
  soup_message_set_request_body_from_bytes (exchange->message, "application/json", body);

  g_debug ("Sending %" G_GSIZE_FORMAT " bytes to deployment “%s”",
           g_bytes_get_size (body), exchange->deployment);
}

/* Hands the message to the session, with the deadline for its answer to
 * start.
 */
static void
exchange_send_async (Exchange            *exchange,
                     SoupSession         *session,
                     int                  priority,
                     GMainContext        *context,
                     GAsyncReadyCallback  callback,
                     gpointer             user_data)
{
  g_assert (exchange->context == NULL);

  exchange->timeout = soup_session_get_timeout (session);
  exchange->context = g_main_context_ref (context);
  g_signal_connect (exchange->message, "wrote-headers",
                    G_CALLBACK (exchange_wrote_headers_cb), exchange);
  g_signal_connect (exchange->message, "wrote-body",
                    G_CALLBACK (exchange_wrote_body_cb), exchange);
  exchange_start_deadline (exchange);

  soup_session_send_async (session,
                           exchange->message,
                           priority,
                           exchange->cancellable,
                           callback,
                           user_data);
}

/* The answer has started, or the request failed before it did. Once the
 * deadline has passed, whatever came is too late (the exchange's
 * cancellable is cancelled, so nothing more could be read), and the
 * request fails the way libsoup's own timeout fails it.
 */
static GInputStream *
exchange_send_finish (Exchange      *exchange,
                      SoupSession   *session,
                      GAsyncResult  *result,
                      GError       **error)
{
  g_autoptr(GInputStream) input = NULL;

  exchange_stop_deadline (exchange);

  input = soup_session_send_finish (session, result, error);

  if (exchange->deadline_passed)
    {
      if (input != NULL)
        input_close_unread (input);

      g_clear_error (error);
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                           "No answer before the deadline");
      return NULL;
    }

  return g_steal_pointer (&input);
}

/* A failed status, with its whole body read. */
static GError *
exchange_error_from_response (Exchange *exchange,
                              GBytes   *body)
{
  SoupMessageHeaders *headers = soup_message_get_response_headers (exchange->message);

  return gaze_client_error_new_from_http (soup_message_get_status (exchange->message),
                                          body,
                                          exchange->deployment,
                                          soup_message_headers_get_one (headers, "Retry-After"),
                                          soup_message_headers_get_one (headers, "retry-after-ms"),
                                          get_request_id (headers));
}

/* A 200 with a whole answer in JSON. */
static GazeReply *
exchange_parse_reply (Exchange  *exchange,
                      GBytes    *body,
                      GError   **error)
{
  g_autoptr(GError) local_error = NULL;
  const char *request_id = exchange_get_request_id (exchange);
  GazeReply *reply;

  if (!(reply = gaze_reply_parse (body, &local_error)))
    {
      g_propagate_error (error,
                         gaze_client_error_new_literal (local_error->code, local_error->message,
                                                        request_id));
      return NULL;
    }

  reply->request_id = g_strdup (request_id);

  return reply;
}

static void
gaze_client_complete_read_cb (GObject      *object,
                              GAsyncResult *result,
                              gpointer      user_data)
{
  GInputStream *input = (GInputStream *)object;
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GazeReply) reply = NULL;
  Exchange *exchange = g_task_get_task_data (task);
  const char *request_id;
  guint status;

  g_assert (G_IS_INPUT_STREAM (input));
  g_assert (G_IS_TASK (task));

  if (!(body = body_read_finish (input, result, &error)))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_task_return_error (task, g_steal_pointer (&error));
      else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE))
        g_task_return_error (task,
                             gaze_client_error_new_unreadable (exchange_get_request_id (exchange)));
      else
        g_task_return_error (task, error_from_transport (error, exchange));
      return;
    }

  status = soup_message_get_status (exchange->message);
  request_id = exchange_get_request_id (exchange);

  g_debug ("HTTP %u, %" G_GSIZE_FORMAT " bytes, request id %s",
           status, g_bytes_get_size (body), request_id ? request_id : "(none)");

  if (!SOUP_STATUS_IS_SUCCESSFUL (status))
    {
      g_task_return_error (task, exchange_error_from_response (exchange, body));
      return;
    }

  if (!(reply = exchange_parse_reply (exchange, body, &error)))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  g_task_return_pointer (task, g_steal_pointer (&reply), (GDestroyNotify)gaze_reply_free);
}

static void
gaze_client_complete_send_cb (GObject      *object,
                              GAsyncResult *result,
                              gpointer      user_data)
{
  SoupSession *session = (SoupSession *)object;
  g_autoptr(GTask) task = user_data;
  g_autoptr(GInputStream) input = NULL;
  g_autoptr(GError) error = NULL;
  GazeClient *self = g_task_get_source_object (task);
  Exchange *exchange = g_task_get_task_data (task);
  int priority = g_task_get_priority (task);
  gboolean failed;

  g_assert (SOUP_IS_SESSION (session));
  g_assert (G_IS_TASK (task));
  g_assert (GAZE_IS_CLIENT (self));

  if (!(input = exchange_send_finish (exchange, session, result, &error)))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_task_return_error (task, g_steal_pointer (&error));
      else
        g_task_return_error (task, error_from_transport (error, exchange));
      return;
    }

  /* An error's start says enough; an answer larger than the cap is none. */
  failed = !SOUP_STATUS_IS_SUCCESSFUL (soup_message_get_status (exchange->message));

  body_read_async (input,
                   failed ? MAX_ERROR_BODY : self->max_reply_size,
                   failed,
                   priority,
                   exchange->cancellable,
                   gaze_client_complete_read_cb,
                   g_steal_pointer (&task));
}

static void
gaze_client_complete_body_cb (GObject      *object,
                              GAsyncResult *result,
                              gpointer      user_data)
{
  GazeRequest *request = (GazeRequest *)object;
  g_autoptr(GTask) task = user_data;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GError) error = NULL;
  GazeClient *self = g_task_get_source_object (task);
  Exchange *exchange = g_task_get_task_data (task);
  GMainContext *context = g_task_get_context (task);
  int priority = g_task_get_priority (task);

  g_assert (GAZE_IS_REQUEST (request));
  g_assert (G_IS_TASK (task));
  g_assert (GAZE_IS_CLIENT (self));

  /* Only cancelling fails it; nothing has been sent. */
  if (!(body = gaze_request_to_bytes_finish (request, result, &error)))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  exchange_set_body (exchange, body);
  exchange_send_async (exchange,
                       self->session,
                       priority,
                       context,
                       gaze_client_complete_send_cb,
                       g_steal_pointer (&task));
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
 * answer. The body is built from @request as it is now, in a worker
 * thread; @request may change as soon as this returns.
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
  g_autoptr(GError) error = NULL;
  Exchange *exchange;

  g_return_if_fail (GAZE_IS_CLIENT (self));
  g_return_if_fail (endpoint != NULL);
  g_return_if_fail (endpoint->deployment != NULL);
  g_return_if_fail (api_key != NULL);
  g_return_if_fail (GAZE_IS_REQUEST (request));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, gaze_client_complete_async);

  if (!(exchange = exchange_new (endpoint, api_key, request, "application/json", cancellable,
                                 &error)))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  g_task_set_task_data (task, exchange, exchange_free);

  gaze_request_to_bytes_async (request,
                               exchange->cancellable,
                               gaze_client_complete_body_cb,
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
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == gaze_client_complete_async,
                        NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* Streaming */

typedef enum
{
  READING_EVENTS,  /* a 200 with an event stream */
  READING_JSON,    /* a 200 with a whole answer: a gateway ignored "stream" */
  READING_ERROR,   /* any other status */
} Reading;

typedef struct
{
  Exchange            *exchange;
  GazeStream          *stream;
  GInputStream        *input;
  GByteArray          *body;

  /* Cancels the exchange's cancellable, which the read in flight answers
   * to.
   */
  GSource             *idle_source;
  guint                idle_timeout;
  gsize                max_body;

  GazeClientDeltaFunc  delta_func;
  gpointer             delta_data;
  GDestroyNotify       delta_destroy;

  Reading              reading;
  guint                timed_out : 1;
} Streaming;

static void
streaming_stop_idle_timer (Streaming *streaming)
{
  timer_stop (&streaming->idle_source);
}

static void
streaming_free (gpointer data)
{
  Streaming *streaming = data;

  streaming_stop_idle_timer (streaming);

  g_clear_object (&streaming->input);
  g_clear_pointer (&streaming->body, g_byte_array_unref);
  g_clear_pointer (&streaming->stream, gaze_stream_free);
  g_clear_pointer (&streaming->exchange, exchange_free);

  if (streaming->delta_destroy != NULL)
    streaming->delta_destroy (streaming->delta_data);

  g_free (streaming);
}

static gboolean
streaming_idle_timeout_cb (gpointer user_data)
{
  Streaming *streaming = user_data;

  g_debug ("The stream sent nothing for %u ms; giving up", streaming->idle_timeout);

  g_clear_pointer (&streaming->idle_source, g_source_unref);
  streaming->timed_out = TRUE;
  g_cancellable_cancel (streaming->exchange->cancellable);

  return G_SOURCE_REMOVE;
}

static void
streaming_restart_idle_timer (Streaming    *streaming,
                              GMainContext *context)
{
  streaming_stop_idle_timer (streaming);

  if (streaming->idle_timeout == 0)
    return;

  streaming->idle_source = timer_start (streaming->idle_timeout,
                                        streaming_idle_timeout_cb, streaming,
                                        "[gaze-client] stream idle timeout", context);
}

static void
streaming_deliver (Streaming  *streaming,
                   const char *text)
{
  if (text != NULL && text[0] != '\0' && streaming->delta_func != NULL)
    streaming->delta_func (text, streaming->delta_data);
}

static void
streaming_deliver_new_text (Streaming *streaming)
{
  g_autofree char *text = gaze_stream_take_new_text (streaming->stream);

  streaming_deliver (streaming, text);
}

/* An error from the stream's content, told with the id of the request,
 * which support asks for. A rate limit keeps the wait it carries.
 */
static GError *
add_request_id (GError     *error,
                const char *request_id)
{
  GError *with_id;

  if (error->domain != GAZE_CLIENT_ERROR ||
      request_id == NULL ||
      gaze_client_error_get_request_id (error) != NULL ||
      gaze_client_error_get_retry_after_ms (error) >= 0)
    return error;

  with_id = gaze_client_error_new_literal (error->code, error->message, request_id);
  g_error_free (error);

  return with_id;
}

static void
stream_return_transport_error (GTask  *task,
                               GError *error)
{
  Streaming *streaming = g_task_get_task_data (task);

  streaming_stop_idle_timer (streaming);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) && streaming->timed_out)
    {
      const char *request_id = exchange_get_request_id (streaming->exchange);
      g_autofree char *wait = gaze_client_format_wait (streaming->idle_timeout);
      g_autofree char *message = g_strdup_printf (_("Azure OpenAI sent nothing more for %s, "
                                                    "so Gaze stopped waiting for the rest of "
                                                    "the answer. Try again in a moment."),
                                                  wait);

      g_task_return_error (task,
                           gaze_client_error_new_literal (GAZE_CLIENT_ERROR_TIMEOUT,
                                                          message,
                                                          request_id));
      return;
    }

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_task_return_error (task, g_error_copy (error));
      return;
    }

  g_task_return_error (task, error_from_transport (error, streaming->exchange));
}

/* The end of an event stream: at its end, at "data: [DONE]", or where the
 * connection broke (@broken).
 */
static void
stream_return_reply (GTask        *task,
                     const GError *broken)
{
  Streaming *streaming = g_task_get_task_data (task);
  const char *request_id = exchange_get_request_id (streaming->exchange);
  g_autoptr(GazeReply) reply = NULL;
  g_autoptr(GError) error = NULL;

  streaming_stop_idle_timer (streaming);

  reply = gaze_stream_finish (streaming->stream, &error);

  /* Cut off before any text: there is nothing to show as cut off. */
  if (broken != NULL && (reply == NULL || (reply->truncated && reply->content[0] == '\0')))
    {
      g_task_return_error (task, error_from_transport (broken, streaming->exchange));
      return;
    }

  if (reply == NULL)
    {
      g_task_return_error (task, add_request_id (g_steal_pointer (&error), request_id));
      return;
    }

  g_debug ("Stream ended: %" G_GSIZE_FORMAT " bytes of text, finish reason %s%s%s",
           strlen (reply->content),
           reply->finish_reason ? reply->finish_reason : "(none)",
           reply->truncated ? ", cut off" : "",
           broken ? ", connection broken" : "");

  reply->request_id = g_strdup (request_id);
  g_task_return_pointer (task, g_steal_pointer (&reply), (GDestroyNotify)gaze_reply_free);
}

/* The whole body of an answer that did not stream. */
static void
stream_return_body (GTask *task)
{
  Streaming *streaming = g_task_get_task_data (task);
  g_autoptr(GBytes) body = g_byte_array_free_to_bytes (g_steal_pointer (&streaming->body));
  g_autoptr(GazeReply) reply = NULL;
  g_autoptr(GError) error = NULL;

  streaming_stop_idle_timer (streaming);

  if (streaming->reading == READING_ERROR)
    {
      g_task_return_error (task, exchange_error_from_response (streaming->exchange, body));
      return;
    }

  if (!(reply = exchange_parse_reply (streaming->exchange, body, &error)))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  streaming_deliver (streaming, reply->content);
  g_task_return_pointer (task, g_steal_pointer (&reply), (GDestroyNotify)gaze_reply_free);
}

static void gaze_client_stream_read_cb (GObject      *object,
                                        GAsyncResult *result,
                                        gpointer      user_data);

static void
stream_read_next (GTask *task)
{
  Streaming *streaming = g_task_get_task_data (task);

  g_input_stream_read_bytes_async (streaming->input,
                                   READ_SIZE,
                                   g_task_get_priority (task),
                                   streaming->exchange->cancellable,
                                   gaze_client_stream_read_cb,
                                   task);
}

static gboolean
stream_read_events (GTask   *task,
                    GBytes  *bytes)
{
  Streaming *streaming = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  gsize size = 0;
  const char *data = g_bytes_get_data (bytes, &size);
  gboolean ok;

  if (size == 0)
    {
      stream_return_reply (task, NULL);
      return FALSE;
    }

  ok = gaze_stream_feed (streaming->stream, data, size, &error);

  /* The text before an error event in the same read is the caller's too. */
  streaming_deliver_new_text (streaming);

  if (!ok)
    {
      streaming_stop_idle_timer (streaming);
      g_task_return_error (task, add_request_id (g_steal_pointer (&error),
                                                 exchange_get_request_id (streaming->exchange)));
      return FALSE;
    }

  /* Nothing the service sends after [DONE] matters. */
  if (gaze_stream_is_done (streaming->stream))
    {
      stream_return_reply (task, NULL);
      return FALSE;
    }

  return TRUE;
}

static gboolean
stream_read_body (GTask  *task,
                  GBytes *bytes)
{
  Streaming *streaming = g_task_get_task_data (task);
  gsize limit = streaming->reading == READING_ERROR ? MAX_ERROR_BODY : streaming->max_body;
  gsize size = 0;
  const guint8 *data = g_bytes_get_data (bytes, &size);

  if (size == 0)
    {
      stream_return_body (task);
      return FALSE;
    }

  if (size > limit - streaming->body->len)
    {
      const char *request_id;

      /* An error's start says enough; an answer that large is not one. */
      if (streaming->reading == READING_ERROR)
        {
          g_byte_array_append (streaming->body, data, limit - streaming->body->len);
          stream_return_body (task);
          return FALSE;
        }

      streaming_stop_idle_timer (streaming);
      request_id = exchange_get_request_id (streaming->exchange);
      g_task_return_error (task, gaze_client_error_new_unreadable (request_id));
      return FALSE;
    }

  g_byte_array_append (streaming->body, data, size);

  return TRUE;
}

static void
gaze_client_stream_read_cb (GObject      *object,
                            GAsyncResult *result,
                            gpointer      user_data)
{
  GInputStream *input = (GInputStream *)object;
  g_autoptr(GTask) task = user_data;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  Streaming *streaming = g_task_get_task_data (task);
  gboolean more;

  g_assert (G_IS_INPUT_STREAM (input));
  g_assert (G_IS_TASK (task));

  if (!(bytes = g_input_stream_read_bytes_finish (input, result, &error)))
    {
      /* A stream cut in the middle is an answer cut off, not a failure. */
      if (streaming->reading == READING_EVENTS &&
          !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) &&
          !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
        {
          g_debug ("The stream broke: %s", error->message);
          stream_return_reply (task, error);
          return;
        }

      stream_return_transport_error (task, error);
      return;
    }

  if (g_bytes_get_size (bytes) > 0)
    streaming_restart_idle_timer (streaming, g_task_get_context (task));

  if (streaming->reading == READING_EVENTS)
    more = stream_read_events (task, bytes);
  else
    more = stream_read_body (task, bytes);

  if (more)
    stream_read_next (g_steal_pointer (&task));
}

static gboolean
content_type_is_json (const char *content_type)
{
  return content_type != NULL && g_ascii_strcasecmp (content_type, "application/json") == 0;
}

static void
gaze_client_stream_send_cb (GObject      *object,
                            GAsyncResult *result,
                            gpointer      user_data)
{
  SoupSession *session = (SoupSession *)object;
  g_autoptr(GTask) task = user_data;
  g_autoptr(GInputStream) input = NULL;
  g_autoptr(GError) error = NULL;
  Streaming *streaming = g_task_get_task_data (task);
  SoupMessageHeaders *headers;
  const char *content_type;
  const char *request_id;
  guint status;

  g_assert (SOUP_IS_SESSION (session));
  g_assert (G_IS_TASK (task));

  if (!(input = exchange_send_finish (streaming->exchange, session, result, &error)))
    {
      stream_return_transport_error (task, error);
      return;
    }

  status = soup_message_get_status (streaming->exchange->message);
  headers = soup_message_get_response_headers (streaming->exchange->message);
  content_type = soup_message_headers_get_content_type (headers, NULL);
  request_id = get_request_id (headers);

  g_debug ("HTTP %u, %s, request id %s",
           status, content_type ? content_type : "no content type",
           request_id ? request_id : "(none)");

  /* The status comes first: an error is JSON whatever was asked for. */
  if (!SOUP_STATUS_IS_SUCCESSFUL (status))
    streaming->reading = READING_ERROR;
  else if (content_type_is_json (content_type))
    streaming->reading = READING_JSON;
  else
    streaming->reading = READING_EVENTS;

  if (streaming->reading == READING_EVENTS)
    streaming->stream = gaze_stream_new ();
  else
    streaming->body = g_byte_array_new ();

  streaming->input = g_steal_pointer (&input);
  streaming_restart_idle_timer (streaming, g_task_get_context (task));
  stream_read_next (g_steal_pointer (&task));
}

static void
gaze_client_stream_body_cb (GObject      *object,
                            GAsyncResult *result,
                            gpointer      user_data)
{
  GazeRequest *request = (GazeRequest *)object;
  g_autoptr(GTask) task = user_data;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GError) error = NULL;
  GazeClient *self = g_task_get_source_object (task);
  Streaming *streaming = g_task_get_task_data (task);
  GMainContext *context = g_task_get_context (task);
  int priority = g_task_get_priority (task);

  g_assert (GAZE_IS_REQUEST (request));
  g_assert (G_IS_TASK (task));
  g_assert (GAZE_IS_CLIENT (self));

  /* Only cancelling fails it; nothing has been sent. */
  if (!(body = gaze_request_to_bytes_finish (request, result, &error)))
    {
      stream_return_transport_error (task, error);
      return;
    }

  exchange_set_body (streaming->exchange, body);
  exchange_send_async (streaming->exchange,
                       self->session,
                       priority,
                       context,
                       gaze_client_stream_send_cb,
                       g_steal_pointer (&task));
}

/**
 * gaze_client_stream_async:
 * @self: a #GazeClient
 * @endpoint: a resolved endpoint (with deployment and api-version)
 * @api_key: the key of the resource
 * @request: what to send; it is set to stream
 * @delta_func: (nullable) (scope notified): called with each piece of
 *   the answer as it arrives
 * @delta_data: data for @delta_func
 * @delta_destroy: (nullable): frees @delta_data once the request is over
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when the answer has ended or the request failed
 * @user_data: data for @callback
 *
 * Sends @request and reads the answer while the service writes it. As
 * with gaze_client_complete_async(), the body is built in a worker thread
 * from @request as it is now.
 * @delta_func runs in the thread-default main context of the caller, once
 * for each read that brought text, never after @callback. If a gateway
 * answers with one JSON body instead, its text comes as one piece.
 *
 * The reply of gaze_client_stream_finish() holds the whole text. An
 * answer cut off before the service said it was complete is still a
 * reply, with #GazeReply.truncated set. An error the service reports in
 * the middle of the stream fails the request; the pieces given to
 * @delta_func before it are all that arrived.
 */
void
gaze_client_stream_async (GazeClient          *self,
                          const GazeEndpoint  *endpoint,
                          const char          *api_key,
                          GazeRequest         *request,
                          GazeClientDeltaFunc  delta_func,
                          gpointer             delta_data,
                          GDestroyNotify       delta_destroy,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GError) error = NULL;
  Streaming *streaming;

  g_return_if_fail (GAZE_IS_CLIENT (self));
  g_return_if_fail (endpoint != NULL);
  g_return_if_fail (endpoint->deployment != NULL);
  g_return_if_fail (api_key != NULL);
  g_return_if_fail (GAZE_IS_REQUEST (request));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, gaze_client_stream_async);

  streaming = g_new0 (Streaming, 1);
  streaming->delta_func = delta_func;
  streaming->delta_data = delta_data;
  streaming->delta_destroy = delta_destroy;
  streaming->idle_timeout = self->stream_idle_timeout;
  streaming->max_body = self->max_reply_size;
  g_task_set_task_data (task, streaming, streaming_free);

  gaze_request_set_stream (request, TRUE);

  if (!(streaming->exchange = exchange_new (endpoint, api_key, request, "text/event-stream",
                                            cancellable, &error)))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  gaze_request_to_bytes_async (request,
                               streaming->exchange->cancellable,
                               gaze_client_stream_body_cb,
                               g_steal_pointer (&task));
}

/**
 * gaze_client_stream_finish:
 * @self: a #GazeClient
 * @result: the result given to the callback
 * @error: a location for a #GError in %GAZE_CLIENT_ERROR or %G_IO_ERROR_CANCELLED
 *
 * Returns: (transfer full): the whole answer, or %NULL with @error set
 */
GazeReply *
gaze_client_stream_finish (GazeClient    *self,
                           GAsyncResult  *result,
                           GError       **error)
{
  g_return_val_if_fail (GAZE_IS_CLIENT (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == gaze_client_stream_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static GError *
download_error_too_large (Exchange *download)
{
  return g_error_new (GAZE_CLIENT_ERROR, GAZE_CLIENT_ERROR_HTTP,
                      _("The photo at “%s” is larger than Gaze downloads. "
                        "Save it on this computer first, then attach the file."),
                      download->host);
}

static GError *
download_error_network (Exchange *download)
{
  return g_error_new (GAZE_CLIENT_ERROR, GAZE_CLIENT_ERROR_NETWORK,
                      _("Gaze could not download the photo from “%s”. "
                        "Check your internet connection, or save the photo first "
                        "and attach the file."),
                      download->host);
}

static void
gaze_client_download_read_cb (GObject      *object,
                              GAsyncResult *result,
                              gpointer      user_data)
{
  GInputStream *input = (GInputStream *)object;
  g_autoptr(GTask) task = user_data;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  Exchange *download = g_task_get_task_data (task);

  g_assert (G_IS_INPUT_STREAM (input));
  g_assert (G_IS_TASK (task));

  if (!(bytes = body_read_finish (input, result, &error)))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_task_return_error (task, g_steal_pointer (&error));
      else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE))
        g_task_return_error (task, download_error_too_large (download));
      else
        g_task_return_error (task, download_error_network (download));
      return;
    }

  g_task_return_pointer (task, g_steal_pointer (&bytes), (GDestroyNotify)g_bytes_unref);
}

static void
gaze_client_download_send_cb (GObject      *object,
                              GAsyncResult *result,
                              gpointer      user_data)
{
  SoupSession *session = (SoupSession *)object;
  g_autoptr(GTask) task = user_data;
  g_autoptr(GInputStream) input = NULL;
  g_autoptr(GError) error = NULL;
  GazeClient *self = g_task_get_source_object (task);
  Exchange *download = g_task_get_task_data (task);
  int priority = g_task_get_priority (task);
  SoupMessageHeaders *response_headers;
  goffset length;
  guint status;

  g_assert (SOUP_IS_SESSION (session));
  g_assert (G_IS_TASK (task));
  g_assert (GAZE_IS_CLIENT (self));

  /* A host that does not answer, or whose name does not resolve, ends at
   * the client's timeout: see exchange_start_deadline(). */
  if (!(input = exchange_send_finish (download, session, result, &error)))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_task_return_error (task, g_steal_pointer (&error));
      else
        g_task_return_error (task, download_error_network (download));
      return;
    }

  status = soup_message_get_status (download->message);
  if (!SOUP_STATUS_IS_SUCCESSFUL (status))
    {
      input_close_unread (input);
      g_task_return_new_error (task, GAZE_CLIENT_ERROR, GAZE_CLIENT_ERROR_HTTP,
                               _("“%s” did not give the photo (HTTP %u). "
                                 "Save it from the web page first, then attach the file."),
                               download->host, status);
      return;
    }

  /* A photo that says it is too large is not read at all; one that does
   * not say is read up to the cap.
   */
  response_headers = soup_message_get_response_headers (download->message);
  length = soup_message_headers_get_content_length (response_headers);
  if (length > 0 && (guint64)length > self->max_download_size)
    {
      input_close_unread (input);
      g_task_return_error (task, download_error_too_large (download));
      return;
    }

  body_read_async (input,
                   self->max_download_size,
                   FALSE,
                   priority,
                   download->cancellable,
                   gaze_client_download_read_cb,
                   g_steal_pointer (&task));
}

/**
 * gaze_client_download_async:
 * @self: a #GazeClient
 * @uri: an http or https address of a photo
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the photo's bytes
 * @user_data: data for @callback
 *
 * Downloads a photo dragged from a web page, up to
 * %GAZE_CLIENT_MAX_DOWNLOAD_SIZE: it stops reading there, whether or not
 * the server said how large the photo is. No key goes with it.
 */
void
gaze_client_download_async (GazeClient          *self,
                            const char          *uri,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GUri) parsed = NULL;
  GMainContext *context;
  Exchange *download;

  g_return_if_fail (GAZE_IS_CLIENT (self));
  g_return_if_fail (uri != NULL);
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, gaze_client_download_async);

  parsed = g_uri_parse (uri, SOUP_HTTP_URI_FLAGS, NULL);
  if (parsed == NULL ||
      (g_strcmp0 (g_uri_get_scheme (parsed), "http") != 0 &&
       g_strcmp0 (g_uri_get_scheme (parsed), "https") != 0))
    {
      g_task_return_new_error (task, GAZE_CLIENT_ERROR, GAZE_CLIENT_ERROR_NETWORK,
                               _("Gaze cannot download a photo from this address. "
                                 "Save it first, then attach the file."));
      return;
    }

  download = exchange_new_for_uri (SOUP_METHOD_GET, parsed, NULL, cancellable);
  g_task_set_task_data (task, download, exchange_free);

  soup_message_headers_replace (soup_message_get_request_headers (download->message),
                                "Accept",
                                "image/*");

  context = g_task_get_context (task);
  exchange_send_async (download,
                       self->session,
                       G_PRIORITY_DEFAULT,
                       context,
                       gaze_client_download_send_cb,
                       g_steal_pointer (&task));
}

/**
 * gaze_client_download_finish:
 * @self: a #GazeClient
 * @result: the result given to the callback
 * @error: a location for a #GError in %GAZE_CLIENT_ERROR or %G_IO_ERROR_CANCELLED
 *
 * Returns: (transfer full): the photo's bytes, or %NULL with @error set
 */
GBytes *
gaze_client_download_finish (GazeClient    *self,
                             GAsyncResult  *result,
                             GError       **error)
{
  g_return_val_if_fail (GAZE_IS_CLIENT (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == gaze_client_download_async,
                        NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
