/* test-faults.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Every fault of the table in issue 6, fed through the real client
 * against loopback servers, once asking for a whole answer and once for a
 * streamed one: the error code, the words of the sentence that name the
 * fix, the request id, the wait that a retry honours, and never the key.
 * Then the exit status of the real `gaze --ask` for each kind of failure.
 *
 * No test leaves the machine. The name lookup fails, or never ends, in a
 * resolver of our own; a connection that cannot be made is a full listen
 * queue on 127.0.0.1 (Linux drops the SYN, so connecting hangs as it does
 * towards an address that does not answer); a connection made but never
 * answered is a socket nobody accepts from; a server that never answers
 * is the fake Azure holding the request.
 *
 * GIO gives a name lookup no deadline, and libsoup's timeout starts with
 * the socket; the system resolver gives up only after its own (resolv.conf's
 * timeout and attempts), often half a minute or more. So the client has a
 * deadline of its own for the answer to start, lookup included.
 *
 * Run with --verbose, the test prints each fault with its sentence.
 */

#include "config.h"

#include <locale.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <libsoup/soup.h>

#include "gaze-client.h"
#include "gaze-client-private.h"
#include "gaze-test-fixture.h"

#define REQUEST_ID     "7c1e5a4f-3b2d-4e8a-9f06-1d2c3b4a5e6f"
#define APIM_ID_HEADER "apim-request-id: " REQUEST_ID
#define DNS_HOST       "myres.openai.azure.com"

/* The key the 401 is made with: a wrong key must not show either. */
#define WRONG_KEY      "gz-not-the-key-7d2e90"

/* A client timeout of one second keeps the timeout tests short; the
 * upper bound leaves room for a slow sanitizer build.
 */
#define SHORT_TIMEOUT_S 1
#define LATEST_S        10.0

#if defined(__SANITIZE_ADDRESS__)
# define TLS_BREAKS_LEAK_CHECK 1
#elif defined(__has_feature)
# if __has_feature(address_sanitizer)
#  define TLS_BREAKS_LEAK_CHECK 1
# endif
#endif
#ifndef TLS_BREAKS_LEAK_CHECK
# define TLS_BREAKS_LEAK_CHECK 0
#endif

/* Any id at all: the server made it up. */
static const char any_id[] = "any";

typedef enum
{
  ASK_WHOLE  = 1 << 0,
  ASK_STREAM = 1 << 1,
} Ask;

/* A resolver of our own, so that no real DNS is asked. By default it
 * knows no name, and lookups fail the way they fail without a network or
 * for a resource that does not exist; it can also answer never, as a DNS
 * server that has gone silent, or with 127.0.0.1.
 */
typedef enum
{
  ANSWER_NOT_FOUND,
  ANSWER_NEVER,
  ANSWER_LOOPBACK,
} Answer;

#define GAZE_TYPE_FAKE_RESOLVER (gaze_fake_resolver_get_type ())

G_DECLARE_FINAL_TYPE (GazeFakeResolver, gaze_fake_resolver, GAZE, FAKE_RESOLVER, GResolver)

struct _GazeFakeResolver
{
  GResolver  parent_instance;

  Answer     answer;
  GPtrArray *names;
  guint      n_unanswered;
};

G_DEFINE_FINAL_TYPE (GazeFakeResolver, gaze_fake_resolver, G_TYPE_RESOLVER)

static GError *
gaze_fake_resolver_not_found (const char *name)
{
  return g_error_new (G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND,
                      "Error resolving “%s”: Name or service not known", name);
}

/* The answers that come at once. Only IPv4 has an address: that is what
 * the fake Azure listens on.
 */
static GList *
gaze_fake_resolver_answer (GazeFakeResolver          *self,
                           const char                *hostname,
                           GResolverNameLookupFlags   flags,
                           GError                   **error)
{
  g_assert (GAZE_IS_FAKE_RESOLVER (self));

  g_ptr_array_add (self->names, g_strdup (hostname));

  switch (self->answer)
    {
    case ANSWER_LOOPBACK:
      if ((flags & G_RESOLVER_NAME_LOOKUP_FLAGS_IPV6_ONLY) == 0)
        return g_list_prepend (NULL, g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4));
      G_GNUC_FALLTHROUGH;

    case ANSWER_NOT_FOUND:
      g_propagate_error (error, gaze_fake_resolver_not_found (hostname));
      return NULL;

    case ANSWER_NEVER:
    default:
      g_error ("A lookup that never ends cannot block: “%s” was looked up synchronously",
               hostname);
    }
}

static GList *
gaze_fake_resolver_lookup_by_name_with_flags (GResolver                 *resolver,
                                              const char                *hostname,
                                              GResolverNameLookupFlags   flags,
                                              GCancellable              *cancellable,
                                              GError                   **error)
{
  return gaze_fake_resolver_answer (GAZE_FAKE_RESOLVER (resolver), hostname, flags, error);
}

static GList *
gaze_fake_resolver_lookup_by_name (GResolver     *resolver,
                                   const char    *hostname,
                                   GCancellable  *cancellable,
                                   GError       **error)
{
  return gaze_fake_resolver_lookup_by_name_with_flags (resolver, hostname,
                                                       G_RESOLVER_NAME_LOOKUP_FLAGS_DEFAULT,
                                                       cancellable, error);
}

/* What ends GIO's own lookups ends this one, and nothing else does. */
static gboolean
gaze_fake_resolver_cancelled_cb (GCancellable *cancellable,
                                 gpointer      user_data)
{
  GTask *task = user_data;
  GazeFakeResolver *self = g_task_get_source_object (task);

  g_assert (GAZE_IS_FAKE_RESOLVER (self));
  g_assert (self->n_unanswered > 0);

  self->n_unanswered--;
  g_task_return_error_if_cancelled (task);

  return G_SOURCE_REMOVE;
}

static void
gaze_fake_resolver_lookup_by_name_with_flags_async (GResolver                *resolver,
                                                    const char               *hostname,
                                                    GResolverNameLookupFlags  flags,
                                                    GCancellable             *cancellable,
                                                    GAsyncReadyCallback       callback,
                                                    gpointer                  user_data)
{
  GazeFakeResolver *self = GAZE_FAKE_RESOLVER (resolver);
  g_autoptr(GTask) task = g_task_new (resolver, cancellable, callback, user_data);
  g_autoptr(GError) error = NULL;
  GList *addresses;

  g_task_set_source_tag (task, gaze_fake_resolver_lookup_by_name_with_flags_async);

  if (self->answer == ANSWER_NEVER)
    {
      g_autoptr(GSource) source = NULL;

      /* GSocketClient always gives one; without it, the test would hang. */
      g_assert_nonnull (cancellable);

      g_ptr_array_add (self->names, g_strdup (hostname));
      self->n_unanswered++;
      source = g_cancellable_source_new (cancellable);
      g_task_attach_source (task, source,
                            (GSourceFunc) G_CALLBACK (gaze_fake_resolver_cancelled_cb));
      return;
    }

  if ((addresses = gaze_fake_resolver_answer (self, hostname, flags, &error)) != NULL)
    g_task_return_pointer (task, addresses, (GDestroyNotify) g_resolver_free_addresses);
  else
    g_task_return_error (task, g_steal_pointer (&error));
}

static void
gaze_fake_resolver_lookup_by_name_async (GResolver           *resolver,
                                         const char          *hostname,
                                         GCancellable        *cancellable,
                                         GAsyncReadyCallback  callback,
                                         gpointer             user_data)
{
  gaze_fake_resolver_lookup_by_name_with_flags_async (resolver, hostname,
                                                      G_RESOLVER_NAME_LOOKUP_FLAGS_DEFAULT,
                                                      cancellable, callback, user_data);
}

static GList *
gaze_fake_resolver_lookup_finish (GResolver     *resolver,
                                  GAsyncResult  *result,
                                  GError       **error)
{
  g_assert (g_task_is_valid (result, resolver));

  return g_task_propagate_pointer (G_TASK (result), error);
}

static char *
gaze_fake_resolver_lookup_by_address (GResolver     *resolver,
                                      GInetAddress  *address,
                                      GCancellable  *cancellable,
                                      GError       **error)
{
  GazeFakeResolver *self = GAZE_FAKE_RESOLVER (resolver);
  g_autofree char *name = g_inet_address_to_string (address);

  g_ptr_array_add (self->names, g_strdup (name));
  g_propagate_error (error, gaze_fake_resolver_not_found (name));

  return NULL;
}

static GList *
gaze_fake_resolver_lookup_records (GResolver            *resolver,
                                   const char           *rrname,
                                   GResolverRecordType   record_type,
                                   GCancellable         *cancellable,
                                   GError              **error)
{
  GazeFakeResolver *self = GAZE_FAKE_RESOLVER (resolver);

  g_ptr_array_add (self->names, g_strdup (rrname));
  g_propagate_error (error, gaze_fake_resolver_not_found (rrname));

  return NULL;
}

static void
gaze_fake_resolver_finalize (GObject *object)
{
  GazeFakeResolver *self = GAZE_FAKE_RESOLVER (object);

  g_clear_pointer (&self->names, g_ptr_array_unref);

  G_OBJECT_CLASS (gaze_fake_resolver_parent_class)->finalize (object);
}

static void
gaze_fake_resolver_class_init (GazeFakeResolverClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GResolverClass *resolver_class = G_RESOLVER_CLASS (klass);

  object_class->finalize = gaze_fake_resolver_finalize;

  resolver_class->lookup_by_name = gaze_fake_resolver_lookup_by_name;
  resolver_class->lookup_by_name_async = gaze_fake_resolver_lookup_by_name_async;
  resolver_class->lookup_by_name_finish = gaze_fake_resolver_lookup_finish;
  resolver_class->lookup_by_name_with_flags = gaze_fake_resolver_lookup_by_name_with_flags;
  resolver_class->lookup_by_name_with_flags_async =
    gaze_fake_resolver_lookup_by_name_with_flags_async;
  resolver_class->lookup_by_name_with_flags_finish = gaze_fake_resolver_lookup_finish;
  resolver_class->lookup_by_address = gaze_fake_resolver_lookup_by_address;
  resolver_class->lookup_records = gaze_fake_resolver_lookup_records;
}

static void
gaze_fake_resolver_init (GazeFakeResolver *self)
{
  self->names = g_ptr_array_new_with_free_func (g_free);
}

/* Whether every name the client looked up was the resource's. */
static void
assert_only_looked_up (GazeFakeResolver *resolver,
                       const char       *name)
{
  for (guint i = 0; i < resolver->names->len; i++)
    g_assert_cmpstr (g_ptr_array_index (resolver->names, i), ==, name);
}

/* The client and its answers */

static const char *
ask_name (Ask ask)
{
  return ask == ASK_STREAM ? "streamed" : "whole";
}

/* Each run gets a request of its own: streaming marks the request. */
static void
run_ask (GazeClient         *client,
         const GazeEndpoint *endpoint,
         const char         *key,
         Ask                 ask,
         guint               max_tokens,
         GazeTestResult     *r)
{
  g_autoptr(GazeRequest) request = gaze_request_new (endpoint->api_version);

  gaze_request_add_user_message (request, "What is in this picture?", NULL);
  if (max_tokens > 0)
    gaze_request_set_max_tokens (request, max_tokens);

  gaze_test_result_start (r, client, endpoint, key, request, ask == ASK_STREAM, NULL);
  gaze_test_result_wait (r);
}

/* The checks every fault gets: its code, the words that name the fix,
 * one line of text without the key, and the request id when the server
 * sent one (@request_id NULL: it sent none).
 */
static void
assert_fault (const char         *fault,
              Ask                 ask,
              const GError       *error,
              GazeClientError     code,
              const char * const *words,
              const char         *request_id)
{
  const char *id;

  if (error == NULL)
    g_error ("%s (%s): no error", fault, ask_name (ask));

  if (!g_error_matches (error, GAZE_CLIENT_ERROR, (int)code))
    g_error ("%s (%s): %s error %d instead of %d: %s", fault, ask_name (ask),
             g_quark_to_string (error->domain), error->code, code, error->message);

  for (guint i = 0; words != NULL && words[i] != NULL; i++)
    {
      if (strstr (error->message, words[i]) == NULL)
        g_error ("%s (%s): “%s” does not say “%s”",
                 fault,
                 ask_name (ask),
                 error->message,
                 words[i]);
    }

  g_assert_true (g_utf8_validate (error->message, -1, NULL));
  g_assert_null (strchr (error->message, '\n'));
  g_assert_null (strstr (error->message, GAZE_TEST_SERVER_KEY));
  g_assert_null (strstr (error->message, WRONG_KEY));

  id = gaze_client_error_get_request_id (error);
  if (request_id == any_id)
    g_assert_nonnull (id);
  else
    g_assert_cmpstr (id, ==, request_id);

  /* A test in a process of its own runs quiet; its sentences show all the same. */
  if (g_test_subprocess ())
    g_print ("# %s (%s) → %s\n", fault, ask_name (ask), error->message);
  else
    g_test_message ("%s (%s) → %s", fault, ask_name (ask), error->message);
}

/* Faults the fake Azure finds by itself: the request is wrong. */

typedef struct
{
  const char      *fault;
  const char      *key;
  const char      *deployment;
  const char      *base_suffix;
  GazeClientError  code;
  const char      *words[4];
} ServiceFault;

static const ServiceFault service_faults[] = {
  { "401 wrong key", WRONG_KEY, NULL, NULL,
    GAZE_CLIENT_ERROR_UNAUTHORIZED, { "key", "Azure portal", "Preferences" } },
  { "404 DeploymentNotFound", NULL, "GPT4V", NULL,
    GAZE_CLIENT_ERROR_DEPLOYMENT_NOT_FOUND, { "“GPT4V”", "case-sensitive" } },
  { "404 wrong path", NULL, NULL, "/not-azure",
    GAZE_CLIENT_ERROR_ENDPOINT_NOT_FOUND, { "endpoint", "Preferences" } },
};

static void
test_faults_service (GazeTestFixture *fixture,
                     gconstpointer    data)
{
  for (guint i = 0; i < G_N_ELEMENTS (service_faults); i++)
    {
      const ServiceFault *f = &service_faults[i];
      g_autoptr(GazeEndpoint) endpoint = gaze_endpoint_copy (fixture->endpoint);

      if (f->deployment != NULL)
        {
          g_free (endpoint->deployment);
          endpoint->deployment = g_strdup (f->deployment);
        }
      if (f->base_suffix != NULL)
        {
          g_autofree char *base = g_strconcat (endpoint->base_url, f->base_suffix, NULL);

          g_free (endpoint->base_url);
          endpoint->base_url = g_steal_pointer (&base);
        }

      for (Ask ask = ASK_WHOLE; ask <= ASK_STREAM; ask <<= 1)
        {
          GazeTestResult r;

          run_ask (fixture->client, endpoint, f->key, ask, 0, &r);
          g_assert_null (r.reply);
          assert_fault (f->fault, ask, r.error, f->code, f->words, any_id);
          g_assert_cmpstr (r.text->str, ==, "");

          /* The server saw the fault the sentence names. */
          g_assert_cmpint (gaze_test_server_get_last_key_ok (fixture->server), ==, f->key == NULL);
          g_assert_cmpint (gaze_test_server_get_last_stream (fixture->server),
                           ==,
                           ask == ASK_STREAM);
          gaze_test_result_clear (&r);
        }
    }
}

/* Failed answers the tests queue, as Azure sends them. */

/* Replaced by an HTTP date ten minutes from now when the test runs. */
#define IN_TEN_MINUTES "Retry-After: ten minutes from now"

#define X_REQUEST_ID "0f6f3c2e-9d41-4b7a-8e15-5a0c7d3e2b19"

#define RATE_LIMIT_BODY "{\"error\":{\"code\":\"429\",\"message\":\"Rate limit is exceeded.\"}}"

#define LONG_MESSAGE \
  "max_tokens is too large: 100000. This model supports at most 4096 completion tokens, " \
  "whereas you provided 100000. The limit applies to every deployment of this model " \
  "version, whatever its quota, and a request that asks for more is refused before any " \
  "text is written, so that nothing is billed for it. See the documentation of the model " \
  "for the limits of each version. END-OF-MESSAGE"

typedef struct
{
  const char      *fault;
  guint            status;
  const char      *content_type;
  const char      *body;
  const char      *file;          /* in data/replies, instead of body */
  const char      *headers[4];
  const char      *request_id;
  GazeClientError  code;
  const char      *words[5];
  gint64           wait_min;      /* gaze_client_error_get_retry_after_ms () */
  gint64           wait_max;
  gint64           retry_min;     /* the first automatic retry's delay, or NO_WAIT for none */
  gint64           retry_max;
} HttpFault;

#define NO_WAIT -1

static const HttpFault http_faults[] = {
  { "403 no access", 403, NULL,
    "{\"error\":{\"code\":\"403\",\"message\":\"Public access is disabled. "
    "Please configure private endpoint.\"}}",
    NULL, { APIM_ID_HEADER }, REQUEST_ID,
    GAZE_CLIENT_ERROR_FORBIDDEN, { "access", "Networking", "Azure portal" },
    NO_WAIT, NO_WAIT, NO_WAIT, NO_WAIT },
  { "429 retry-after-ms", 429, NULL,
    "{\"error\":{\"code\":\"429\","
    "\"message\":\"Requests to the ChatCompletions_Create Operation under "
    "Azure OpenAI API version 2024-10-21 have exceeded call rate limit of your current OpenAI S0 "
    "pricing tier. Please retry after 1 second.\"}}",
    NULL, { APIM_ID_HEADER, "retry-after-ms: 1500", "Retry-After: 1" }, REQUEST_ID,
    GAZE_CLIENT_ERROR_RATE_LIMITED, { "Try again in 2 seconds", "rate limit" },
    1500, 1500, 1500, 1500 },
  { "429 Retry-After seconds", 429, NULL, RATE_LIMIT_BODY,
    NULL, { APIM_ID_HEADER, "Retry-After: 7" }, REQUEST_ID,
    GAZE_CLIENT_ERROR_RATE_LIMITED, { "Try again in 7 seconds", "rate limit" },
    7000, 7000, 7000, 7000 },
  /* Longer than anyone watches a countdown: said, not waited for. */
  { "429 Retry-After HTTP date", 429, NULL, RATE_LIMIT_BODY,
    NULL, { APIM_ID_HEADER, IN_TEN_MINUTES }, REQUEST_ID,
    GAZE_CLIENT_ERROR_RATE_LIMITED, { "Try again in 10 minutes", "rate limit" },
    590000, 600000, NO_WAIT, NO_WAIT },
  { "429 number in the message", 429, NULL,
    "{\"error\":{\"code\":\"429\","
    "\"message\":\"Requests to the ChatCompletions_Create Operation under "
    "Azure OpenAI API version 2024-10-21 have exceeded token rate limit of your current OpenAI S0 "
    "pricing tier. Please retry after 5 seconds.\"}}",
    NULL, { APIM_ID_HEADER }, REQUEST_ID,
    GAZE_CLIENT_ERROR_RATE_LIMITED, { "Try again in 5 seconds", "rate limit" },
    5000, 5000, 5000, 5000 },
  { "429 number in the message, a day", 429, NULL, NULL,
    "rate-limit-429.json", { APIM_ID_HEADER }, REQUEST_ID,
    GAZE_CLIENT_ERROR_RATE_LIMITED, { "Try again in 24 hours", "rate limit" },
    86400000, 86400000, NO_WAIT, NO_WAIT },
  { "429 no wait given", 429, NULL, RATE_LIMIT_BODY,
    NULL, { APIM_ID_HEADER }, REQUEST_ID,
    GAZE_CLIENT_ERROR_RATE_LIMITED, { "Wait a minute and try again", "rate limit" },
    NO_WAIT, NO_WAIT, 2000, 2000 },
  { "500", 500, NULL,
    "{\"error\":{\"code\":\"InternalServerError\",\"message\":\"The server had an error while "
    "processing your request. Sorry about that!\"}}",
    NULL, { APIM_ID_HEADER }, REQUEST_ID,
    GAZE_CLIENT_ERROR_SERVER_ERROR, { "HTTP 500", "Try again" },
    NO_WAIT, NO_WAIT, 1000, 1499 },
  { "502", 502, "text/html", "<html><body><h1>502 Bad Gateway</h1></body></html>",
    NULL, { APIM_ID_HEADER }, REQUEST_ID,
    GAZE_CLIENT_ERROR_SERVER_ERROR, { "HTTP 502", "Try again" },
    NO_WAIT, NO_WAIT, 1000, 1499 },
  { "503", 503, NULL,
    "{\"error\":{\"code\":\"ServiceUnavailable\","
    "\"message\":\"The service is temporarily unable to "
    "process your request. Please try again later.\"}}",
    NULL, { APIM_ID_HEADER }, REQUEST_ID,
    GAZE_CLIENT_ERROR_SERVER_ERROR, { "HTTP 503", "Try again" },
    NO_WAIT, NO_WAIT, 1000, 1499 },
  { "503 Retry-After", 503, "text/plain", "Service Unavailable",
    NULL, { APIM_ID_HEADER, "Retry-After: 3" }, REQUEST_ID,
    GAZE_CLIENT_ERROR_SERVER_ERROR, { "HTTP 503", "Try again" },
    3000, 3000, 3000, 3000 },
  { "400 content_filter", 400, NULL,
    "{\"error\":{\"message\":\"The response was filtered due to the prompt "
    "triggering Azure OpenAI's "
    "content management policy.\",\"type\":null,\"param\":\"prompt\",\"code\":\"content_filter\","
    "\"status\":400,\"innererror\":{\"code\":\"ResponsibleAIPolicyViolation\","
    "\"content_filter_result\":{\"hate\":{\"filtered\":true,\"severity\":\"high\"},"
    "\"jailbreak\":{\"filtered\":true,\"detected\":true},"
    "\"self_harm\":{\"filtered\":false,\"severity\":\"safe\"},"
    "\"sexual\":{\"filtered\":true,\"severity\":\"medium\"},"
    "\"violence\":{\"filtered\":false,\"severity\":\"safe\"}}}}}",
    NULL, { APIM_ID_HEADER }, REQUEST_ID,
    GAZE_CLIENT_ERROR_CONTENT_FILTERED,
    { "hate (high)", "jailbreak attempt", "sexual content (medium)", "Rephrase" },
    NO_WAIT, NO_WAIT, NO_WAIT, NO_WAIT },
  { "400 content_filter, blocklist", 400, NULL, NULL,
    "content-filter-prompt-400.json", { APIM_ID_HEADER }, REQUEST_ID,
    GAZE_CLIENT_ERROR_CONTENT_FILTERED, { "a blocked word list", "Rephrase" },
    NO_WAIT, NO_WAIT, NO_WAIT, NO_WAIT },
  { "400 other, with param", 400, NULL,
    "{\"error\":{\"message\":\"" LONG_MESSAGE "\",\"type\":\"invalid_request_error\","
    "\"param\":\"max_tokens\",\"code\":null}}",
    NULL, { APIM_ID_HEADER }, REQUEST_ID,
    GAZE_CLIENT_ERROR_BAD_REQUEST,
    { "max_tokens is too large: 100000.", "…", "(parameter “max_tokens”)", "Preferences" },
    NO_WAIT, NO_WAIT, NO_WAIT, NO_WAIT },
  { "400 other, no param", 400, NULL,
    "{\"error\":{\"code\":null,\"message\":\"Too many images in request. Max is 10.\","
    "\"param\":null,\"type\":\"invalid_request_error\"}}",
    NULL, { APIM_ID_HEADER }, REQUEST_ID,
    GAZE_CLIENT_ERROR_BAD_REQUEST,
    { "“Too many images in request. Max is 10.”", "Preferences" },
    NO_WAIT, NO_WAIT, NO_WAIT, NO_WAIT },
  /* Some gateways send only x-request-id. */
  { "500, x-request-id only", 500, "text/plain", "Internal Server Error",
    NULL, { "apim-request-id:", "x-request-id: " X_REQUEST_ID }, X_REQUEST_ID,
    GAZE_CLIENT_ERROR_SERVER_ERROR, { "HTTP 500", "Try again" },
    NO_WAIT, NO_WAIT, 1000, 1499 },
};

static void
queue_http_fault (GazeTestServer  *server,
                  const HttpFault *f)
{
  g_autoptr(GPtrArray) headers = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < G_N_ELEMENTS (f->headers) && f->headers[i] != NULL; i++)
    {
      if (g_str_equal (f->headers[i], IN_TEN_MINUTES))
        {
          g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
          g_autoptr(GDateTime) then = g_date_time_add_seconds (now, 600);
          g_autofree char *date = soup_date_time_to_string (then, SOUP_DATE_HTTP);

          g_ptr_array_add (headers, g_strconcat ("Retry-After: ", date, NULL));
        }
      else
        {
          g_ptr_array_add (headers, g_strdup (f->headers[i]));
        }
    }
  g_ptr_array_add (headers, NULL);

  if (f->file != NULL)
    {
      g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "replies", f->file, NULL);

      gaze_test_server_queue_reply_file (server,
                                         f->status,
                                         path,
                                         (const char * const *)headers->pdata);
    }
  else
    {
      gaze_test_server_queue_reply (server, f->status, f->content_type, f->body,
                                    (const char * const *)headers->pdata);
    }
}

/* The window retries by itself what gaze_client_error_should_retry()
 * allows: a rate limit after the wait the service asked for, a server
 * error after a growing wait with jitter; twice at most.
 */
static void
assert_retries (const HttpFault *f,
                const GError    *error)
{
  gint64 delay = 0;
  gboolean again;

  again = gaze_client_error_should_retry (error, 0, &delay);
  if (f->retry_min == NO_WAIT)
    {
      if (again)
        g_error ("%s: retried after %" G_GINT64_FORMAT " ms", f->fault, delay);
      return;
    }

  g_assert_true (again);
  g_assert_cmpint (delay, >=, f->retry_min);
  g_assert_cmpint (delay, <=, f->retry_max);

  if (error->code == GAZE_CLIENT_ERROR_SERVER_ERROR && f->wait_min == NO_WAIT)
    {
      g_autoptr(GHashTable) seen = g_hash_table_new (g_int64_hash, g_int64_equal);
      gint64 delays[20];

      g_assert_true (gaze_client_error_should_retry (error, 1, &delay));
      g_assert_cmpint (delay, >=, 2000);
      g_assert_cmpint (delay, <, 2500);

      for (guint i = 0; i < G_N_ELEMENTS (delays); i++)
        {
          g_assert_true (gaze_client_error_should_retry (error, 0, &delays[i]));
          g_hash_table_add (seen, &delays[i]);
        }
      g_assert_cmpuint (g_hash_table_size (seen), >, 1);
    }

  g_assert_false (gaze_client_error_should_retry (error, GAZE_CLIENT_MAX_RETRIES, &delay));
}

static void
test_faults_http (GazeTestFixture *fixture,
                  gconstpointer    data)
{
  guint n_requests = 0;

  for (guint i = 0; i < G_N_ELEMENTS (http_faults); i++)
    {
      const HttpFault *f = &http_faults[i];

      for (Ask ask = ASK_WHOLE; ask <= ASK_STREAM; ask <<= 1)
        {
          GazeTestResult r;
          gint64 wait;

          queue_http_fault (fixture->server, f);
          run_ask (fixture->client, fixture->endpoint, NULL, ask, 0, &r);
          g_assert_null (r.reply);
          assert_fault (f->fault, ask, r.error, f->code, f->words, f->request_id);

          wait = gaze_client_error_get_retry_after_ms (r.error);
          g_assert_cmpint (wait, >=, f->wait_min);
          g_assert_cmpint (wait, <=, f->wait_max);
          assert_retries (f, r.error);

          /* The service's words are cut, not pasted whole. */
          g_assert_null (strstr (r.error->message, "END-OF-MESSAGE"));

          /* One request each: the client itself never sends again. */
          g_assert_cmpuint (gaze_test_server_get_n_requests (fixture->server), ==, ++n_requests);
          g_assert_true (gaze_test_server_get_last_key_ok (fixture->server));
          gaze_test_result_clear (&r);
        }
    }
}

/* Replies that are not what they claim to be. */

typedef struct
{
  const char *fault;
  Ask         ask;
  const char *content_type;
  const char *body;
} Unreadable;

static const Unreadable unreadables[] = {
  { "not JSON", ASK_WHOLE, "text/html", "<html><body>Sign in to the Wi-Fi</body></html>" },
  { "not JSON", ASK_STREAM, "text/html", "<html><body>Sign in to the Wi-Fi</body></html>" },
  { "not JSON", ASK_STREAM, "text/event-stream", "data: Sign in to the Wi-Fi\n\n" },
  { "not JSON", ASK_STREAM, "application/json", "<html><body>Sign in to the Wi-Fi</body></html>" },
  { "truncated JSON", ASK_WHOLE, "application/json",
    "{\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"The ima" },
  { "truncated JSON", ASK_STREAM, "text/event-stream",
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"The ima\n\n" },
  { "truncated JSON", ASK_STREAM, "application/json",
    "{\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"The ima" },
  { "wrong types", ASK_WHOLE, "application/json",
    "{\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":42},"
    "\"finish_reason\":\"stop\"}]}" },
  { "wrong types", ASK_WHOLE, "application/json", "{\"choices\":{\"message\":\"The image\"}}" },
  { "wrong types", ASK_WHOLE, "application/json", "[\"The image\"]" },
  { "wrong types", ASK_STREAM, "text/event-stream",
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":42}}]}\n\n" },
  { "wrong types", ASK_STREAM, "text/event-stream", "data: [\"The image\"]\n\n" },
};

static void
test_faults_unreadable (GazeTestFixture *fixture,
                        gconstpointer    data)
{
  const char * const words[] = { "cannot read", "Try again", NULL };
  const char * const headers[] = { APIM_ID_HEADER, NULL };

  for (guint i = 0; i < G_N_ELEMENTS (unreadables); i++)
    {
      const Unreadable *u = &unreadables[i];
      g_autofree char *fault = g_strdup_printf ("%s (%s)", u->fault, u->content_type);
      GazeTestResult r;

      gaze_test_server_queue_reply (fixture->server, 200, u->content_type, u->body, headers);
      run_ask (fixture->client, fixture->endpoint, NULL, u->ask, 0, &r);
      g_assert_null (r.reply);
      assert_fault (fault, u->ask, r.error, GAZE_CLIENT_ERROR_UNREADABLE_REPLY, words, REQUEST_ID);
      gaze_test_result_clear (&r);
    }
}

/* A whole answer that never ends, as a gateway might send instead of a
 * stream: the client stops at its cap, asked either way. The cap is
 * lowered so that the test need not send 16 MiB.
 */
static void
test_faults_too_large (GazeTestFixture *fixture,
                       gconstpointer    data)
{
  const char * const words[] = { "cannot read", "Try again", NULL };
  g_autoptr(GBytes) piece = g_bytes_new_take (g_strnfill (16 * 1024, ' '), 16 * 1024);

  gaze_client_set_max_reply_size (fixture->client, 64 * 1024);
  gaze_test_server_set_chunk_interval (fixture->server, 0);

  for (Ask ask = ASK_WHOLE; ask <= ASK_STREAM; ask <<= 1)
    {
      GazeTestResult r;

      gaze_test_server_queue_chunked_reply (fixture->server, 200, "application/json", piece, 1024);
      run_ask (fixture->client, fixture->endpoint, NULL, ask, 0, &r);
      g_assert_null (r.reply);
      assert_fault ("endless JSON answer", ask, r.error, GAZE_CLIENT_ERROR_UNREADABLE_REPLY, words,
                    any_id);
      gaze_test_result_clear (&r);
    }
}

/* A connection that drops in the middle of the answer. */
static void
test_faults_connection_drops (GazeTestFixture *fixture,
                              gconstpointer    data)
{
  const char * const words[] = { "connection broke", "internet", "try again", NULL };
  GazeTestResult r;

  /* A whole answer that is half there is no answer. */
  gaze_test_server_queue_truncated (fixture->server);
  run_ask (fixture->client, fixture->endpoint, NULL, ASK_WHOLE, 0, &r);
  g_assert_null (r.reply);
  assert_fault ("connection drops", ASK_WHOLE, r.error, GAZE_CLIENT_ERROR_NETWORK, words, any_id);
  gaze_test_result_clear (&r);

  /* A streamed one keeps what arrived, and says it was cut off. */
  gaze_test_server_queue_truncated (fixture->server);
  run_ask (fixture->client, fixture->endpoint, NULL, ASK_STREAM, 0, &r);
  g_assert_no_error (r.error);
  g_assert_true (r.reply->truncated);
  g_assert_cmpstr (r.reply->content, !=, "");
  g_assert_nonnull (r.reply->request_id);
  gaze_test_result_clear (&r);
}

/* An error the service sends in the middle of a stream. */

#define EVENT_CONTENT(text) \
  "data: {\"choices\":[{\"delta\":{\"content\":\"" text "\"}," \
  "\"finish_reason\":null,\"index\":0}]," \
  "\"object\":\"chat.completion.chunk\"}\n\n"

typedef struct
{
  const char      *fault;
  const char      *event;
  GazeClientError  code;
  const char      *words[3];
} ErrorEvent;

static const ErrorEvent error_events[] = {
  { "error event mid-stream",
    "data: {\"error\":{\"message\":\"The server had an error while processing your request. Sorry "
    "about that!\",\"type\":\"server_error\",\"param\":null,\"code\":null}}\n\n",
    GAZE_CLIENT_ERROR_SERVER_ERROR, { "Sorry about that!", "Try again" } },
  { "content filter event mid-stream",
    "data: {\"error\":{\"code\":\"content_filter\",\"message\":\"The response was filtered.\","
    "\"innererror\":{\"code\":\"ResponsibleAIPolicyViolation\",\"content_filter_result\":"
    "{\"violence\":{\"filtered\":true,\"severity\":\"high\"}}}}}\n\n",
    GAZE_CLIENT_ERROR_CONTENT_FILTERED, { "violence (high)" } },
};

static void
test_faults_error_event (GazeTestFixture *fixture,
                         gconstpointer    data)
{
  const char * const headers[] = { APIM_ID_HEADER, NULL };

  for (guint i = 0; i < G_N_ELEMENTS (error_events); i++)
    {
      const ErrorEvent *e = &error_events[i];
      g_autofree char *body = g_strconcat (EVENT_CONTENT ("The") EVENT_CONTENT (" image"),
                                           e->event,
                                           EVENT_CONTENT (" never"),
                                           "data: [DONE]\n\n",
                                           NULL);
      GazeTestResult r;

      gaze_test_server_queue_reply (fixture->server, 200, "text/event-stream", body, headers);
      run_ask (fixture->client, fixture->endpoint, NULL, ASK_STREAM, 0, &r);
      g_assert_null (r.reply);
      assert_fault (e->fault, ASK_STREAM, r.error, e->code, e->words, REQUEST_ID);

      /* What came before the error reached the caller, nothing after it. */
      g_assert_cmpstr (r.text->str, ==, "The image");
      gaze_test_result_clear (&r);
    }
}

/* Answers cut by the content filter or by max_tokens are answers: what
 * arrived is kept, and the reply says why it ends there.
 */

#define FILTERED_WHOLE \
  "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"gpt-4o\"," \
  "\"choices\":[{\"index\":0,\"finish_reason\":\"content_filter\"," \
  "\"message\":{\"role\":\"assistant\"}," \
  "\"content_filter_results\":{\"hate\":{\"filtered\":false,\"severity\":\"safe\"}," \
  "\"violence\":{\"filtered\":true,\"severity\":\"high\"}}}]," \
  "\"usage\":{\"completion_tokens\":4,\"prompt_tokens\":20,\"total_tokens\":24}}"

#define FILTERED_STREAM \
  EVENT_CONTENT ("Once upon") EVENT_CONTENT (" a time") \
  "data: {\"choices\":[{\"content_filter_results\":" \
  "{\"hate\":{\"filtered\":false,\"severity\":\"safe\"}," \
  "\"violence\":{\"filtered\":true,\"severity\":\"high\"}},\"delta\":{}," \
  "\"finish_reason\":\"content_filter\",\"index\":0}],\"object\":\"chat.completion.chunk\"}\n\n" \
  "data: [DONE]\n\n"

static void
test_faults_cut_answers (GazeTestFixture *fixture,
                         gconstpointer    data)
{
  const char * const headers[] = { APIM_ID_HEADER, NULL };
  g_autofree char *whole_text = NULL;
  GazeTestResult r;

  gaze_test_server_queue_reply (fixture->server, 200, "application/json", FILTERED_WHOLE, headers);
  run_ask (fixture->client, fixture->endpoint, NULL, ASK_WHOLE, 0, &r);
  g_assert_no_error (r.error);
  g_assert_cmpstr (r.reply->finish_reason, ==, "content_filter");
  g_assert_cmpstr (r.reply->filtered, ==, "violence (high)");
  g_assert_cmpstr (r.reply->content, ==, "");
  g_assert_cmpstr (r.reply->request_id, ==, REQUEST_ID);
  gaze_test_result_clear (&r);

  gaze_test_server_queue_reply (fixture->server,
                                200,
                                "text/event-stream",
                                FILTERED_STREAM,
                                headers);
  run_ask (fixture->client, fixture->endpoint, NULL, ASK_STREAM, 0, &r);
  g_assert_no_error (r.error);
  g_assert_cmpstr (r.reply->finish_reason, ==, "content_filter");
  g_assert_cmpstr (r.reply->filtered, ==, "violence (high)");
  g_assert_cmpstr (r.reply->content, ==, "Once upon a time");
  g_assert_false (r.reply->truncated);
  g_assert_cmpstr (r.reply->request_id, ==, REQUEST_ID);
  gaze_test_result_clear (&r);

  /* The fake Azure cuts at max_tokens by itself, the same both ways. */
  run_ask (fixture->client, fixture->endpoint, NULL, ASK_WHOLE, 3, &r);
  g_assert_no_error (r.error);
  g_assert_cmpint (gaze_test_server_get_last_max_tokens (fixture->server), ==, 3);
  g_assert_cmpstr (r.reply->finish_reason, ==, "length");
  g_assert_cmpstr (r.reply->content, !=, "");
  whole_text = g_strdup (r.reply->content);
  gaze_test_result_clear (&r);

  run_ask (fixture->client, fixture->endpoint, NULL, ASK_STREAM, 3, &r);
  g_assert_no_error (r.error);
  g_assert_cmpstr (r.reply->finish_reason, ==, "length");
  g_assert_cmpstr (r.reply->content, ==, whole_text);
  g_assert_false (r.reply->truncated);
  gaze_test_result_clear (&r);
}

/* Faults before any HTTP */

static void
test_faults_dns (void)
{
  g_autoptr(GazeFakeResolver) resolver = g_object_new (GAZE_TYPE_FAKE_RESOLVER, NULL);
  g_autoptr(GResolver) original = g_resolver_get_default ();
  g_autoptr(GazeEndpoint) endpoint = NULL;
  GazeClient *client;
  const char * const words[] = { "“" DNS_HOST "”", "resource name", "internet", NULL };

  endpoint = gaze_endpoint_resolve ("https://" DNS_HOST, GAZE_TEST_SERVER_DEPLOYMENT, NULL, NULL);
  g_assert_nonnull (endpoint);

  g_resolver_set_default (G_RESOLVER (resolver));
  client = gaze_client_new ();

  for (Ask ask = ASK_WHOLE; ask <= ASK_STREAM; ask <<= 1)
    {
      guint asked = resolver->names->len;
      GazeTestResult r;

      run_ask (client, endpoint, NULL, ask, 0, &r);
      g_assert_null (r.reply);
      assert_fault ("DNS failure", ask, r.error, GAZE_CLIENT_ERROR_NETWORK, words, NULL);
      gaze_test_result_clear (&r);

      /* The client asked our resolver, and only for the resource. */
      g_assert_cmpuint (resolver->names->len, >, asked);
      assert_only_looked_up (resolver, DNS_HOST);
    }

  g_assert_finalize_object (client);
  g_resolver_set_default (original);
}

static guint16
find_closed_port (void)
{
  g_autoptr(GSocketListener) listener = g_socket_listener_new ();
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GError) error = NULL;

  /* Take a free port on 127.0.0.1 and let it go: nothing listens there. */
  g_socket_listener_add_address (listener, address, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                                 NULL, &bound, &error);
  g_assert_no_error (error);
  g_socket_listener_close (listener);

  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

static void
test_faults_refused (GazeTestFixture *fixture,
                     gconstpointer    data)
{
  g_autoptr(GazeEndpoint) endpoint = gaze_endpoint_copy (fixture->endpoint);
  const char * const words[] = { "reach", "“127.0.0.1”", "internet", "endpoint", NULL };

  g_free (endpoint->base_url);
  endpoint->base_url = g_strdup_printf ("http://127.0.0.1:%u", find_closed_port ());

  for (Ask ask = ASK_WHOLE; ask <= ASK_STREAM; ask <<= 1)
    {
      GazeTestResult r;

      run_ask (fixture->client, endpoint, NULL, ask, 0, &r);
      g_assert_null (r.reply);
      assert_fault ("connection refused", ask, r.error, GAZE_CLIENT_ERROR_NETWORK, words, NULL);
      gaze_test_result_clear (&r);
    }
}

/* Running the command line */

/* GCC 12's LeakSanitizer crashes at the exit of a process that spoke TLS
 * (see below); the command's run that does turns the leak check off.
 */
static void
run_gaze (GazeTestRun        *run,
          const char         *key,
          gboolean            speaks_tls,
          const char * const *argv)
{
  g_autofree char *asan_options = NULL;
  const char *env[] = { NULL, NULL };

  if (TLS_BREAKS_LEAK_CHECK && speaks_tls)
    {
      const char *options = g_getenv ("ASAN_OPTIONS");

      asan_options = g_strconcat ("ASAN_OPTIONS=", options ? options : "", options ? ":" : "",
                                  "detect_leaks=0", NULL);
      env[0] = asan_options;
    }

  gaze_test_run_gaze (run, key, env, argv);
}

/* TLS */

/* GCC 12's LeakSanitizer (Debian 12) crashes at the exit of any process
 * that has loaded GIO's GnuTLS module: it misreads the module's dynamic
 * thread-local storage. So whatever speaks TLS runs in a process of its
 * own, which under the sanitizer leaves without the leak check that
 * cannot work there; the rest of the suite keeps it.
 */
static gboolean
tls_test_runs_here (void)
{
  if (g_test_subprocess ())
    return TRUE;

  g_test_trap_subprocess (NULL,
                          0,
                          G_TEST_SUBPROCESS_INHERIT_STDOUT | G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();

  return FALSE;
}

static void
tls_test_end (void)
{
  if (TLS_BREAKS_LEAK_CHECK)
    {
      fflush (stdout);
      fflush (stderr);
      _exit (0);
    }
}

static gboolean
tls_is_available (void)
{
  if (g_tls_backend_supports_tls (g_tls_backend_get_default ()))
    return TRUE;

  g_test_skip ("No TLS backend: install glib-networking");

  return FALSE;
}

static GTlsCertificate *
load_test_certificate (void)
{
  g_autofree char *cert = g_test_build_filename (G_TEST_DIST, "data", "tls", "test-cert.pem", NULL);
  g_autofree char *key = g_test_build_filename (G_TEST_DIST, "data", "tls", "test-key.pem", NULL);
  g_autoptr(GError) error = NULL;
  GTlsCertificate *certificate;

  certificate = g_tls_certificate_new_from_files (cert, key, &error);
  g_assert_no_error (error);

  return certificate;
}

static gboolean
accept_any_certificate_cb (SoupMessage          *message,
                           GTlsCertificate      *certificate,
                           GTlsCertificateFlags  errors,
                           gpointer              user_data)
{
  return TRUE;
}

static void
send_and_read_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  GBytes **body = user_data;
  g_autoptr(GError) error = NULL;

  *body = soup_session_send_and_read_finish (SOUP_SESSION (object), result, &error);
  g_assert_no_error (error);
}

static void
test_faults_tls (void)
{
  g_autoptr(GTlsCertificate) certificate = NULL;
  g_autoptr(GazeTestServer) server = NULL;
  g_autoptr(GazeEndpoint) endpoint = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *url = NULL;
  GazeClient *client;
  const char * const words[] = { "not secure", "sent nothing", "endpoint", NULL };

  if (!tls_test_runs_here () || !tls_is_available ())
    return;

  certificate = load_test_certificate ();
  server = gaze_test_server_new_tls (certificate, &error);
  g_assert_no_error (error);
  url = gaze_test_server_dup_endpoint (server);
  g_assert_true (g_str_has_prefix (url, "https://127.0.0.1:"));
  endpoint = gaze_endpoint_resolve (url, GAZE_TEST_SERVER_DEPLOYMENT, NULL, NULL);
  g_assert_nonnull (endpoint);

  client = gaze_client_new ();

  for (Ask ask = ASK_WHOLE; ask <= ASK_STREAM; ask <<= 1)
    {
      GazeTestResult r;

      run_ask (client, endpoint, NULL, ask, 0, &r);
      g_assert_null (r.reply);
      assert_fault ("TLS failure", ask, r.error, GAZE_CLIENT_ERROR_TLS, words, NULL);
      gaze_test_result_clear (&r);

      /* The certificate was refused before a byte of the request, the key
       * above all, went out: the server never read a request.
       */
      g_assert_cmpuint (gaze_test_server_get_n_requests (server), ==, 0);
    }

  g_assert_finalize_object (client);

  /* The command line refuses it too, and says so with its exit status. */
  {
    const char *argv[] = { "--ask", "What is in this picture?", "--endpoint", url,
                           "--deployment", GAZE_TEST_SERVER_DEPLOYMENT, NULL };
    GazeTestRun run;

    if (g_getenv ("GAZE_BINARY") != NULL)
      {
        run_gaze (&run, GAZE_TEST_SERVER_KEY, TRUE, argv);
        g_print ("# gaze --ask, TLS failure: exit %d, %.*s\n", run.status,
                 (int)strcspn (run.err, "\n"), run.err);
        g_assert_cmpint (run.status, ==, 8);
        g_assert_cmpstr (run.out, ==, "");
        g_assert_nonnull (strstr (run.err, "not secure"));
        g_assert_null (strstr (run.err, GAZE_TEST_SERVER_KEY));
        gaze_test_run_clear (&run);
        g_assert_cmpuint (gaze_test_server_get_n_requests (server), ==, 0);
      }
  }

  /* The same server answers a client told to trust it, so the refusals
   * above were the clients'.
   */
  {
    g_autoptr(SoupSession) session = soup_session_new ();
    g_autoptr(SoupMessage) message = soup_message_new ("GET", url);
    g_autoptr(GBytes) body = NULL;

    g_signal_connect (message, "accept-certificate", G_CALLBACK (accept_any_certificate_cb), NULL);
    soup_session_send_and_read_async (session,
                                      message,
                                      G_PRIORITY_DEFAULT,
                                      NULL,
                                      send_and_read_cb,
                                      &body);
    while (body == NULL)
      g_main_context_iteration (NULL, TRUE);

    g_assert_cmpuint (soup_message_get_status (message), ==, SOUP_STATUS_NOT_FOUND);
    g_assert_cmpuint (gaze_test_server_get_n_requests (server), ==, 1);
  }

  tls_test_end ();
}

/* Timeouts */

static void
count_notify_cb (GObject    *object,
                 GParamSpec *pspec,
                 gpointer    user_data)
{
  guint *count = user_data;

  (*count)++;
}

static void
test_faults_timeout_property (void)
{
  g_autoptr(GazeClient) client = gaze_client_new ();
  guint notified = 0;
  guint value = 0;

  /* The defaults: two minutes for the answer to start and for each
   * read, one minute of silence in a stream.
   */
  g_assert_cmpuint (gaze_client_get_timeout (client), ==, 120);
  g_assert_cmpuint (gaze_client_get_stream_idle_timeout (client), ==, 60000);

  g_signal_connect (client, "notify::timeout", G_CALLBACK (count_notify_cb), &notified);
  gaze_client_set_timeout (client, 5);
  gaze_client_set_timeout (client, 5);
  g_assert_cmpuint (notified, ==, 1);
  g_object_get (client, "timeout", &value, NULL);
  g_assert_cmpuint (value, ==, 5);
  g_object_set (client, "timeout", 0, NULL);
  g_assert_cmpuint (gaze_client_get_timeout (client), ==, 0);
  g_assert_cmpuint (notified, ==, 2);
}

static gboolean
still_waiting_cb (gpointer user_data)
{
  g_error ("%s: still no answer and no error after %.0f s", (const char *) user_data, LATEST_S);

  return G_SOURCE_REMOVE;
}

/* A wait that never ends fails here, not at the suite's own time limit. */
static void
run_until_timeout (const char         *fault,
                   GazeClient         *client,
                   const GazeEndpoint *endpoint,
                   Ask                 ask,
                   const char * const *words,
                   const char         *request_id,
                   double              earliest)
{
  g_autoptr(GTimer) timer = g_timer_new ();
  guint watchdog = g_timeout_add_seconds ((guint) LATEST_S, still_waiting_cb, (gpointer) fault);
  GazeTestResult r;

  run_ask (client, endpoint, NULL, ask, 0, &r);
  g_source_remove (watchdog);
  g_assert_null (r.reply);
  assert_fault (fault, ask, r.error, GAZE_CLIENT_ERROR_TIMEOUT, words, request_id);
  g_assert_cmpfloat (g_timer_elapsed (timer, NULL), >=, earliest);
  g_assert_cmpfloat (g_timer_elapsed (timer, NULL), <, LATEST_S);
  gaze_test_result_clear (&r);
}

/* Linux completes the handshake of a connection that waits in the listen
 * queue, and drops the SYN once the queue is full. A queue of one, taken
 * by a connection of ours, makes connecting hang.
 */
static void
test_faults_timeout_connect (GazeTestFixture *fixture,
                             gconstpointer    data)
{
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any_port = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GSocket) listener = NULL;
  g_autoptr(GPtrArray) waiting = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GazeEndpoint) endpoint = gaze_endpoint_copy (fixture->endpoint);
  g_autoptr(GError) error = NULL;
  const char * const words[] = { "did not answer", "Try again", NULL };
  gboolean full = FALSE;

  listener = g_socket_new (G_SOCKET_FAMILY_IPV4,
                           G_SOCKET_TYPE_STREAM,
                           G_SOCKET_PROTOCOL_TCP,
                           &error);
  g_assert_no_error (error);
  g_socket_bind (listener, any_port, FALSE, &error);
  g_assert_no_error (error);
  g_socket_set_listen_backlog (listener, 0);
  g_socket_listen (listener, &error);
  g_assert_no_error (error);
  bound = g_socket_get_local_address (listener, &error);
  g_assert_no_error (error);

  for (guint i = 0; i < 8 && !full; i++)
    {
      GSocket *socket = g_socket_new (G_SOCKET_FAMILY_IPV4,
                                      G_SOCKET_TYPE_STREAM,
                                      G_SOCKET_PROTOCOL_TCP,
                                      &error);

      g_assert_no_error (error);
      g_ptr_array_add (waiting, socket);
      g_socket_set_blocking (socket, FALSE);
      if (g_socket_connect (socket, bound, NULL, &error))
        continue;

      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PENDING);
      g_clear_error (&error);
      full = !g_socket_condition_timed_wait (socket, G_IO_OUT, 200 * 1000, NULL, NULL);
    }

  if (!full)
    {
      g_test_skip ("The listen queue never filled up: connecting cannot be made to hang here");
      return;
    }

  g_free (endpoint->base_url);
  endpoint->base_url =
    g_strdup_printf ("http://127.0.0.1:%u",
                     g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
  gaze_client_set_timeout (fixture->client, SHORT_TIMEOUT_S);

  for (Ask ask = ASK_WHOLE; ask <= ASK_STREAM; ask <<= 1)
    run_until_timeout ("timeout, connecting", fixture->client, endpoint, ask, words, NULL,
                       0.9 * SHORT_TIMEOUT_S);
}

/* Connected, but nobody ever accepts the connection or says a word: the
 * TLS handshake waits for an answer that never comes. That is a silent
 * service, not an insecure one.
 */
static void
test_faults_timeout_handshake (GazeTestFixture *fixture,
                               gconstpointer    data)
{
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any_port = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GSocket) listener = NULL;
  g_autoptr(GazeEndpoint) endpoint = gaze_endpoint_copy (fixture->endpoint);
  g_autoptr(GError) error = NULL;
  const char * const words[] = { "did not answer", "Try again", NULL };

  if (!tls_test_runs_here () || !tls_is_available ())
    return;

  listener = g_socket_new (G_SOCKET_FAMILY_IPV4,
                           G_SOCKET_TYPE_STREAM,
                           G_SOCKET_PROTOCOL_TCP,
                           &error);
  g_assert_no_error (error);
  g_socket_bind (listener, any_port, FALSE, &error);
  g_assert_no_error (error);
  g_socket_listen (listener, &error);
  g_assert_no_error (error);
  bound = g_socket_get_local_address (listener, &error);
  g_assert_no_error (error);

  g_free (endpoint->base_url);
  endpoint->base_url =
    g_strdup_printf ("https://127.0.0.1:%u",
                     g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
  gaze_client_set_timeout (fixture->client, SHORT_TIMEOUT_S);

  for (Ask ask = ASK_WHOLE; ask <= ASK_STREAM; ask <<= 1)
    run_until_timeout ("timeout, TLS handshake", fixture->client, endpoint, ask, words, NULL,
                       0.9 * SHORT_TIMEOUT_S);

  tls_test_end ();
}

/* The fake Azure reads the request and holds it without a word. */
static void
test_faults_timeout_first_byte (GazeTestFixture *fixture,
                                gconstpointer    data)
{
  const char * const words[] = { "did not answer", "Try again", NULL };

  gaze_test_server_set_delay (fixture->server, 60 * 1000);
  gaze_client_set_timeout (fixture->client, SHORT_TIMEOUT_S);

  for (Ask ask = ASK_WHOLE; ask <= ASK_STREAM; ask <<= 1)
    {
      guint before = gaze_test_server_get_n_requests (fixture->server);

      run_until_timeout ("timeout, first byte",
                         fixture->client,
                         fixture->endpoint,
                         ask,
                         words,
                         NULL,
                         0.9 * SHORT_TIMEOUT_S);

      /* The request arrived whole; the answer never started. */
      g_assert_cmpuint (gaze_test_server_get_n_requests (fixture->server), ==, before + 1);
      g_assert_true (gaze_test_server_get_last_key_ok (fixture->server));
    }
}

/* Headers and the first event, then silence. */
static void
test_faults_timeout_idle (GazeTestFixture *fixture,
                          gconstpointer    data)
{
  const char * const headers[] = { APIM_ID_HEADER, NULL };
  const char * const whole_words[] = { "did not answer", "Try again", NULL };
  const char * const stream_words[] = { "sent nothing more", "stopped waiting", "Try again", NULL };
  const char *body = EVENT_CONTENT ("The") EVENT_CONTENT (" image") "data: [DONE]\n\n";
  GazeTestResult r;

  gaze_test_server_set_chunk_interval (fixture->server, 60 * 1000);
  gaze_client_set_timeout (fixture->client, SHORT_TIMEOUT_S);
  gaze_client_set_stream_idle_timeout (fixture->client, 300);

  /* A whole answer that stops coming: each read has the I/O timeout. */
  gaze_test_server_queue_reply (fixture->server, 200, "text/event-stream", body, headers);
  run_until_timeout ("timeout, idle answer", fixture->client, fixture->endpoint, ASK_WHOLE,
                     whole_words, REQUEST_ID, 0.9 * SHORT_TIMEOUT_S);

  /* A stream that stops: the idle timeout, and what arrived stays. */
  gaze_test_server_queue_reply (fixture->server, 200, "text/event-stream", body, headers);
  {
    g_autoptr(GTimer) timer = g_timer_new ();

    run_ask (fixture->client, fixture->endpoint, NULL, ASK_STREAM, 0, &r);
    g_assert_null (r.reply);
    assert_fault ("timeout, idle stream", ASK_STREAM, r.error, GAZE_CLIENT_ERROR_TIMEOUT,
                  stream_words, REQUEST_ID);
    g_assert_cmpstr (r.text->str, ==, "The");
    g_assert_cmpfloat (g_timer_elapsed (timer, NULL), >=, 0.3);
    g_assert_cmpfloat (g_timer_elapsed (timer, NULL), <, LATEST_S);
    gaze_test_result_clear (&r);
  }
}

/* A name lookup that never ends, as when a DNS server has gone silent:
 * nothing but the client's deadline gives up on it before the system
 * resolver would, half a minute or more later. The name stands for the
 * fake Azure, which the same client reaches once the name resolves; so
 * nothing reached it before.
 */
typedef struct
{
  GBytes   *bytes;
  GError   *error;
  gboolean  done;
} DownloadResult;

static void
download_done_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  DownloadResult *download = user_data;

  download->bytes = gaze_client_download_finish (GAZE_CLIENT (object), result, &download->error);
  download->done = TRUE;
}

static void
test_faults_timeout_dns (GazeTestFixture *fixture,
                         gconstpointer    data)
{
  g_autoptr(GazeFakeResolver) resolver = g_object_new (GAZE_TYPE_FAKE_RESOLVER, NULL);
  g_autoptr(GResolver) original = g_resolver_get_default ();
  g_autoptr(GazeEndpoint) endpoint = gaze_endpoint_copy (fixture->endpoint);
  const char * const words[] = { "did not answer", "Try again", NULL };
  GazeTestResult r;

  /* Plain http, which the endpoint parser allows only for loopback names. */
  g_free (endpoint->base_url);
  endpoint->base_url = g_strdup_printf ("http://" DNS_HOST ":%u",
                                        gaze_test_server_get_port (fixture->server));

  resolver->answer = ANSWER_NEVER;
  g_resolver_set_default (G_RESOLVER (resolver));
  gaze_client_set_timeout (fixture->client, SHORT_TIMEOUT_S);

  for (Ask ask = ASK_WHOLE; ask <= ASK_STREAM; ask <<= 1)
    {
      guint asked = resolver->names->len;

      run_until_timeout ("timeout, name lookup", fixture->client, endpoint, ask, words, NULL,
                         0.9 * SHORT_TIMEOUT_S);

      /* The client hung on the resource's name, and left no lookup behind. */
      g_assert_cmpuint (resolver->names->len, >, asked);
      assert_only_looked_up (resolver, DNS_HOST);
      g_assert_cmpuint (resolver->n_unanswered, ==, 0);
      g_assert_cmpuint (gaze_test_server_get_n_started (fixture->server), ==, 0);
    }

  /* A photo dragged from a web page whose host never resolves: the same
   * deadline ends it, with the download's own sentence. */
  {
    g_autofree char *uri = g_strdup_printf ("http://" DNS_HOST ":%u/photo.jpg",
                                            gaze_test_server_get_port (fixture->server));
    g_autoptr(GTimer) timer = g_timer_new ();
    DownloadResult download = { 0 };

    gaze_client_download_async (fixture->client, uri, NULL, download_done_cb, &download);
    while (!download.done)
      g_main_context_iteration (NULL, TRUE);

    g_test_message ("A download from a name that never resolves failed after %.1f s",
                    g_timer_elapsed (timer, NULL));
    g_assert_null (download.bytes);
    g_assert_error (download.error, GAZE_CLIENT_ERROR, GAZE_CLIENT_ERROR_NETWORK);
    g_assert_nonnull (strstr (download.error->message, "could not download the photo"));
    g_assert_cmpfloat (g_timer_elapsed (timer, NULL), >=, 0.9 * SHORT_TIMEOUT_S);
    g_assert_cmpfloat (g_timer_elapsed (timer, NULL), <, LATEST_S);
    g_assert_cmpuint (resolver->n_unanswered, ==, 0);
    g_clear_error (&download.error);
  }

  /* Stop ends such a lookup too, deadline or not. */
  gaze_client_set_timeout (fixture->client, 0);

  for (Ask ask = ASK_WHOLE; ask <= ASK_STREAM; ask <<= 1)
    {
      g_autoptr(GazeRequest) request = gaze_test_request_new ("What is in this picture?", NULL);
      g_autoptr(GCancellable) cancellable = g_cancellable_new ();
      g_autoptr(GTimer) timer = g_timer_new ();

      gaze_test_cancel_later (cancellable, 100);
      gaze_test_result_start (&r, fixture->client, endpoint, NULL, request, ask == ASK_STREAM,
                              cancellable);
      gaze_test_result_wait (&r);
      g_assert_error (r.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_assert_cmpfloat (g_timer_elapsed (timer, NULL), <, LATEST_S);
      g_assert_cmpuint (resolver->n_unanswered, ==, 0);
      gaze_test_result_clear (&r);
    }

  g_assert_cmpuint (gaze_test_server_get_n_started (fixture->server), ==, 0);

  /* The same name, answered, leads to the fake Azure. */
  resolver->answer = ANSWER_LOOPBACK;
  run_ask (fixture->client, endpoint, NULL, ASK_WHOLE, 0, &r);
  g_assert_no_error (r.error);
  g_assert_cmpuint (gaze_test_server_get_n_requests (fixture->server), ==, 1);
  g_assert_true (gaze_test_server_get_last_key_ok (fixture->server));
  gaze_test_result_clear (&r);

  g_resolver_set_default (original);
}

/* A whole answer in eleven pieces: the server sends a chunk for each
 * blank line of a text/event-stream body, and JSON stays JSON with blank
 * lines in it.
 */
#define TRICKLED_WHOLE \
  "{\"id\":\"chatcmpl-2\",\n\n" \
  "\"object\":\"chat.completion\",\n\n" \
  "\"created\":1,\n\n" \
  "\"model\":\"gpt-4o\",\n\n" \
  "\"choices\":[{\"index\":0,\n\n" \
  "\"finish_reason\":\"stop\",\n\n" \
  "\"message\":{\"role\":\"assistant\",\n\n" \
  "\"content\":\"Slow and steady.\"}}],\n\n" \
  "\"usage\":{\"completion_tokens\":4,\n\n" \
  "\"prompt_tokens\":20,\n\n" \
  "\"total_tokens\":24}}"

/* The deadline is for the answer to start. An answer that keeps coming,
 * each piece well within the idle timeout, may go on for longer than the
 * timeout, streamed or whole.
 */
static void
test_faults_timeout_long_answer (GazeTestFixture *fixture,
                                 gconstpointer    data)
{
  const char * const headers[] = { APIM_ID_HEADER, NULL };
  GazeTestResult r;

  gaze_client_set_timeout (fixture->client, SHORT_TIMEOUT_S);
  gaze_client_set_stream_idle_timeout (fixture->client, SHORT_TIMEOUT_S * 1000);

  /* The fake Azure's own stream, a word or half of one at a time: some
   * 25 pieces.
   */
  {
    g_autoptr(GTimer) timer = g_timer_new ();

    gaze_test_server_set_chunk_interval (fixture->server, 80);
    run_ask (fixture->client, fixture->endpoint, NULL, ASK_STREAM, 0, &r);
    g_assert_no_error (r.error);
    g_test_message ("A streamed answer in %u pieces took %.1f s",
                    r.deltas->len, g_timer_elapsed (timer, NULL));
    g_assert_cmpfloat (g_timer_elapsed (timer, NULL), >=, 1.5 * SHORT_TIMEOUT_S);
    g_assert_cmpstr (r.reply->finish_reason, ==, "stop");
    g_assert_false (r.reply->truncated);
    g_assert_true (g_str_has_prefix (r.reply->content, "I see no image"));
    g_assert_true (gaze_test_server_get_last_stream (fixture->server));
    gaze_test_result_clear (&r);
  }

  /* A whole answer, read to its end. */
  {
    g_autoptr(GTimer) timer = g_timer_new ();

    gaze_test_server_set_chunk_interval (fixture->server, 200);
    gaze_test_server_queue_reply (fixture->server, 200, "text/event-stream", TRICKLED_WHOLE,
                                  headers);
    run_ask (fixture->client, fixture->endpoint, NULL, ASK_WHOLE, 0, &r);
    g_assert_no_error (r.error);
    g_test_message ("A whole answer took %.1f s", g_timer_elapsed (timer, NULL));
    g_assert_cmpfloat (g_timer_elapsed (timer, NULL), >=, 1.5 * SHORT_TIMEOUT_S);
    g_assert_cmpstr (r.reply->content, ==, "Slow and steady.");
    g_assert_cmpstr (r.reply->request_id, ==, REQUEST_ID);
    g_assert_cmpint (r.reply->total_tokens, ==, 24);
    g_assert_false (gaze_test_server_get_last_stream (fixture->server));
    gaze_test_result_clear (&r);
  }

  g_assert_cmpuint (gaze_test_server_get_n_requests (fixture->server), ==, 2);
}

/* A server on a socket of its own that reads a request's body slowly at
 * first, like a slow uplink, then answers with a whole reply.
 */
typedef struct
{
  GSocket *listener;
  gsize    slow_bytes;
  gsize    bytes_per_second;
  gsize    body_length;
} SlowReader;

#define SLOW_READER_REPLY \
  "{\"id\":\"chatcmpl-slow\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"gpt-4\"," \
  "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"All of it.\"}," \
  "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":3," \
  "\"total_tokens\":12}}"

static gpointer
slow_reader_thread (gpointer data)
{
  SlowReader *reader = data;
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GString) head = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *response = NULL;
  char buffer[16 * 1024];
  const char *length_header;
  gint64 start;
  gsize expected;
  gsize body = 0;

  socket = g_socket_accept (reader->listener, NULL, &error);
  g_assert_no_error (error);

  /* The headers, and whatever of the body came with them. */
  while (strstr (head->str, "\r\n\r\n") == NULL)
    {
      gssize n = g_socket_receive (socket, buffer, sizeof buffer, NULL, &error);

      g_assert_no_error (error);
      g_assert_cmpint (n, >, 0);
      g_string_append_len (head, buffer, n);
    }

  length_header = strstr (head->str, "Content-Length: ");
  g_assert_nonnull (length_header);
  expected = g_ascii_strtoull (length_header + strlen ("Content-Length: "), NULL, 10);
  body = head->len - (gsize) (strstr (head->str, "\r\n\r\n") + 4 - head->str);

  start = g_get_monotonic_time ();
  while (body < expected)
    {
      gssize n = g_socket_receive (socket, buffer, sizeof buffer, NULL, &error);

      g_assert_no_error (error);
      g_assert_cmpint (n, >, 0);
      body += (gsize) n;

      /* Keep to the rate until the slow part is read. */
      if (body < reader->slow_bytes)
        {
          gint64 due = start + (gint64) (body * G_USEC_PER_SEC / reader->bytes_per_second);
          gint64 now = g_get_monotonic_time ();

          if (due > now)
            g_usleep ((gulong) (due - now));
        }
    }

  reader->body_length = body;
  response = g_strdup_printf ("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                              "Content-Length: %" G_GSIZE_FORMAT "\r\n"
                              "Connection: close\r\n\r\n%s",
                              strlen (SLOW_READER_REPLY), SLOW_READER_REPLY);
  g_socket_send (socket, response, strlen (response), NULL, &error);
  g_assert_no_error (error);
  g_socket_shutdown (socket, FALSE, TRUE, NULL);

  /* Until the client has read it all and closed. */
  while (g_socket_receive (socket, buffer, sizeof buffer, NULL, NULL) > 0)
    ;

  return NULL;
}

/* The deadline is for the answer to start; the upload of a large body on
 * a slow line is not counted in it, as long as the body keeps moving.
 */
static void
test_faults_timeout_slow_upload (GazeTestFixture *fixture,
                                 gconstpointer    data)
{
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any_port = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GazeEndpoint) endpoint = gaze_endpoint_copy (fixture->endpoint);
  g_autoptr(GazeRequest) request = NULL;
  g_autoptr(GTimer) timer = g_timer_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *question = NULL;
  SlowReader reader = { 0 };
  GThread *thread;
  GazeTestResult r;

  reader.listener = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                  G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  /* A small receive buffer, so that what the client has written is close
   * to what the server has read. */
  g_socket_set_option (reader.listener, SOL_SOCKET, SO_RCVBUF, 32 * 1024, &error);
  g_assert_no_error (error);
  g_socket_bind (reader.listener, any_port, TRUE, &error);
  g_assert_no_error (error);
  g_socket_listen (reader.listener, &error);
  g_assert_no_error (error);
  bound = g_socket_get_local_address (reader.listener, &error);
  g_assert_no_error (error);

  /* 8 MB of question, the first 4 MB read at 1.6 MB a second: the client's
   * send buffer holds 4 MB at most, so the body takes some 2.5 s to go,
   * well past the 1 s deadline. */
  reader.slow_bytes = 4 * 1024 * 1024;
  reader.bytes_per_second = 1600 * 1024;
  thread = g_thread_new ("slow-reader", slow_reader_thread, &reader);

  g_free (endpoint->base_url);
  endpoint->base_url =
    g_strdup_printf ("http://127.0.0.1:%u",
                     g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
  gaze_client_set_timeout (fixture->client, SHORT_TIMEOUT_S);

  question = g_strnfill (8 * 1024 * 1024, 'a');
  request = gaze_request_new (endpoint->api_version);
  gaze_request_add_user_message (request, question, NULL);

  gaze_test_result_start (&r, fixture->client, endpoint, NULL, request, FALSE, NULL);
  gaze_test_result_wait (&r);
  g_thread_join (thread);

  g_test_message ("An 8 MB body went up in %.1f s", g_timer_elapsed (timer, NULL));
  g_assert_no_error (r.error);
  g_assert_cmpstr (r.reply->content, ==, "All of it.");
  g_assert_cmpfloat (g_timer_elapsed (timer, NULL), >=, 2 * SHORT_TIMEOUT_S);
  g_assert_cmpuint (reader.body_length, >, 8 * 1024 * 1024);
  gaze_test_result_clear (&r);

  g_socket_close (reader.listener, NULL);
  g_clear_object (&reader.listener);
}

/* The command line: one exit status for each kind of failure. */

typedef enum
{
  AT_FAKE_AZURE,
  AT_CLOSED_PORT,
} Target;

typedef struct
{
  const char *fault;
  int         status;
  Target      target;
  const char *key;            /* NULL: the right one */
  const char *deployment;     /* NULL: the right one */
  const char *max_tokens;
  guint       reply_status;   /* a reply to queue, or 0 */
  const char *content_type;
  const char *body;
  const char *headers[3];
  gboolean    prints_answer;
  const char *words;
} CliFault;

static const CliFault cli_faults[] = {
  { "401", 4, AT_FAKE_AZURE, WRONG_KEY, NULL, NULL, 0, NULL, NULL, { NULL },
    FALSE, "Azure portal" },
  { "404 DeploymentNotFound", 5, AT_FAKE_AZURE, NULL, "GPT4V", NULL, 0, NULL, NULL, { NULL },
    FALSE, "case-sensitive" },
  { "429", 6, AT_FAKE_AZURE, NULL, NULL, NULL, 429, NULL, RATE_LIMIT_BODY, { "Retry-After: 7" },
    FALSE, "Try again in 7 seconds" },
  { "400 content_filter", 7, AT_FAKE_AZURE, NULL, NULL, NULL, 400, NULL,
    "{\"error\":{\"code\":\"content_filter\",\"message\":\"The response was filtered\","
    "\"innererror\":{\"content_filter_result\":"
    "{\"violence\":{\"filtered\":true,\"severity\":\"medium\"}}}}}",
    { NULL }, FALSE, "violence (medium)" },
  { "answer withheld by the filter", 7, AT_FAKE_AZURE, NULL, NULL, NULL, 200, "text/event-stream",
    FILTERED_STREAM, { NULL }, TRUE, "violence (high)" },
  { "connection refused", 8, AT_CLOSED_PORT, NULL, NULL, NULL, 0, NULL, NULL, { NULL },
    FALSE, "could not reach" },
  { "500", 9, AT_FAKE_AZURE, NULL, NULL, NULL, 500, "text/html",
    "<html>Internal Server Error</html>", { NULL }, FALSE, "Try again" },
  { "unreadable", 9, AT_FAKE_AZURE, NULL, NULL, NULL, 200, "text/html", "<html>Sign in</html>",
    { NULL }, FALSE, "cannot read" },
  { "cut at max tokens", 10, AT_FAKE_AZURE, NULL, NULL, "3", 0, NULL, NULL, { NULL },
    TRUE, "--max-tokens" },
};

/* A TLS failure is 8 too: test_faults_tls() runs the command against the
 * HTTPS server.
 */
static void
test_faults_cli (GazeTestFixture *fixture,
                 gconstpointer    data)
{
  g_autofree char *fake_azure = gaze_test_server_dup_endpoint (fixture->server);
  g_autofree char *closed_port = g_strdup_printf ("http://127.0.0.1:%u", find_closed_port ());

  if (g_getenv ("GAZE_BINARY") == NULL)
    {
      g_test_skip ("GAZE_BINARY is not set; run this through meson test");
      return;
    }

  for (guint i = 0; i < G_N_ELEMENTS (cli_faults); i++)
    {
      const CliFault *f = &cli_faults[i];
      const char *argv[] = { "--ask", "What is in this picture?",
                             "--endpoint", f->target == AT_CLOSED_PORT ? closed_port : fake_azure,
                             "--deployment",
                             f->deployment ? f->deployment : GAZE_TEST_SERVER_DEPLOYMENT,
                             "--max-tokens", f->max_tokens ? f->max_tokens : "800",
                             NULL };
      GazeTestRun run;

      if (f->reply_status != 0)
        gaze_test_server_queue_reply (fixture->server, f->reply_status, f->content_type, f->body,
                                      f->headers);

      run_gaze (&run, f->key ? f->key : GAZE_TEST_SERVER_KEY, FALSE, argv);
      g_test_message ("gaze --ask, %s: exit %d, %.*s", f->fault, run.status,
                      (int)strcspn (run.err, "\n"), run.err);

      if (run.status != f->status)
        g_error ("%s: exit status %d instead of %d: %s", f->fault, run.status, f->status, run.err);
      if (f->prints_answer)
        g_assert_cmpstr (run.out, !=, "");
      else
        g_assert_cmpstr (run.out, ==, "");

      /* One sentence that names the fix, and nothing else. */
      g_assert_true (g_str_has_suffix (run.err, "\n"));
      g_assert_true (strchr (run.err, '\n') == run.err + strlen (run.err) - 1);
      if (strstr (run.err, f->words) == NULL)
        g_error ("%s: “%s” does not say “%s”", f->fault, run.err, f->words);

      g_assert_null (strstr (run.out, GAZE_TEST_SERVER_KEY));
      g_assert_null (strstr (run.err, GAZE_TEST_SERVER_KEY));
      g_assert_null (strstr (run.out, WRONG_KEY));
      g_assert_null (strstr (run.err, WRONG_KEY));
      gaze_test_run_clear (&run);
    }
}

int
main (int   argc,
      char *argv[])
{
  /* Nothing but loopback: no proxy may stand between the client and the
   * servers here, nor look a name up.
   */
  g_setenv ("GIO_USE_PROXY_RESOLVER", "dummy", TRUE);

  /* The character set only, so that --verbose prints the sentences as
   * they are; they stay untranslated.
   */
  setlocale (LC_CTYPE, "");

  g_test_init (&argc, &argv, NULL);

#define ADD(name, func) g_test_add ("/faults/" name, GazeTestFixture, NULL, \
                                 gaze_test_fixture_set_up, func, gaze_test_fixture_tear_down)
  ADD ("service", test_faults_service);
  ADD ("http", test_faults_http);
  ADD ("unreadable", test_faults_unreadable);
  ADD ("too-large", test_faults_too_large);
  ADD ("connection-drops", test_faults_connection_drops);
  ADD ("error-event", test_faults_error_event);
  ADD ("cut-answers", test_faults_cut_answers);
  ADD ("refused", test_faults_refused);
  ADD ("timeout/connect", test_faults_timeout_connect);
  ADD ("timeout/handshake", test_faults_timeout_handshake);
  ADD ("timeout/first-byte", test_faults_timeout_first_byte);
  ADD ("timeout/idle", test_faults_timeout_idle);
  ADD ("timeout/dns", test_faults_timeout_dns);
  ADD ("timeout/long-answer", test_faults_timeout_long_answer);
  ADD ("timeout/slow-upload", test_faults_timeout_slow_upload);
  ADD ("cli", test_faults_cli);
#undef ADD
  g_test_add_func ("/faults/dns", test_faults_dns);
  g_test_add_func ("/faults/tls", test_faults_tls);
  g_test_add_func ("/faults/timeout/property", test_faults_timeout_property);

  return g_test_run ();
}
