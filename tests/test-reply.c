/* test-reply.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>
#include <libsoup/soup.h>

#include "gaze-client-error.h"
#include "gaze-reply.h"

#define NO_COUNT (-1)

static GBytes *
load_fixture (const char *name)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "replies", name, NULL);
  g_autoptr(GError) error = NULL;
  char *contents = NULL;
  gsize length = 0;

  g_file_get_contents (path, &contents, &length, &error);
  g_assert_no_error (error);

  return g_bytes_new_take (contents, length);
}

static GBytes *
bytes_from_string (const char *text)
{
  return g_bytes_new (text, strlen (text));
}

/* Replies the service sends, or could send, that Gaze must read. */
typedef struct
{
  const char *name;
  const char *file;            /* in tests/data/replies, or NULL for body */
  const char *body;
  const char *content;         /* exact, or NULL to check content_prefix */
  const char *content_prefix;
  const char *finish_reason;
  const char *filtered;        /* a part of the filtered text, or NULL for none */
  gint64      prompt_tokens;
  gint64      completion_tokens;
  gint64      total_tokens;
} ReplyCase;

static const ReplyCase reply_cases[] = {
  {
    "docs-gpt-4-vision-preview", "vision-response-gpt-4-vision-preview.json", NULL,
    "The picture shows an individual dressed in formal attire, which includes a black tuxedo with "
    "a black bow tie. There is an American flag on the left lapel of the individual's jacket. The "
    "background is predominantly blue with white text that reads \"THE KENNEDY PROFILE IN COURAGE "
    "AWARD\" and there are also visible elements of the flag of the United States placed behind "
    "the individual.", NULL,
    "stop", NULL, 1156, 80, 1236,
  },
  {
    "docs-finish-details-stop", "vision-enhancements-response-finish_details.json", NULL,
    "The image shows a close-up of an individual with dark hair and what appears to be a short "
    "haircut. The person has visible ears and a bit of their neckline. The background is a neutral "
    "light color, providing a contrast to the dark hair.", NULL,
    "stop", NULL, 816, 49, 865,
  },
  {
    "docs-content-filter-200", "content-filter-completion-200.json", NULL,
    "", NULL,
    "content_filter", "blocked word list", 27, 75, 102,
  },
  {
    "synthetic-2024-10-21", "synthetic-2024-10-21-vision-response.json", NULL,
    "The image shows a red bicycle leaning against a brick wall.", NULL,
    "stop", NULL, 792, 14, 806,
  },
  {
    "spec-2024-10-21", "spec-2024-10-21-chat-completions.json", NULL,
    NULL, "Ahoy matey! So ye be wantin' to care for a fine squawkin' parrot, eh?",
    "stop", NULL, 33, 557, 590,
  },
  {
    "spec-2024-02-15-preview-image-vector",
    "spec-2024-02-15-preview-azure-search-image-vector.json", NULL,
    "Content of the completion.", NULL,
    "stop", NULL, 33, 557, 590,
  },
  {
    "finish-details-max-tokens", NULL,
    "{\"choices\":[{\"index\":0,\"finish_details\":{\"type\":\"max_tokens\"},"
    "\"message\":{\"role\":\"assistant\",\"content\":\"The image shows\"}}]}",
    "The image shows", NULL,
    "length", NULL, NO_COUNT, NO_COUNT, NO_COUNT,
  },
  {
    "finish-reason-length", NULL,
    "{\"choices\":[{\"finish_reason\":\"length\",\"message\":{\"content\":\"Cut\"}}],"
    "\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":1,\"total_tokens\":11}}",
    "Cut", NULL,
    "length", NULL, 10, 1, 11,
  },
  {
    "finish-reason-wins-over-details", NULL,
    "{\"choices\":[{\"finish_reason\":\"stop\",\"finish_details\":{\"type\":\"max_tokens\"},"
    "\"message\":{\"content\":\"Both\"}}]}",
    "Both", NULL,
    "stop", NULL, NO_COUNT, NO_COUNT, NO_COUNT,
  },
  {
    "finish-reason-null", NULL,
    "{\"choices\":[{\"finish_reason\":null,\"message\":{\"content\":\"Hi\"}}]}",
    "Hi", NULL,
    NULL, NULL, NO_COUNT, NO_COUNT, NO_COUNT,
  },
  {
    "finish-reason-number", NULL,
    "{\"choices\":[{\"finish_reason\":7,\"message\":{\"content\":\"Hi\"}}]}",
    "Hi", NULL,
    NULL, NULL, NO_COUNT, NO_COUNT, NO_COUNT,
  },
  {
    "finish-details-not-object", NULL,
    "{\"choices\":[{\"finish_details\":\"stop\",\"message\":{\"content\":\"Hi\"}}]}",
    "Hi", NULL,
    NULL, NULL, NO_COUNT, NO_COUNT, NO_COUNT,
  },
  {
    "finish-details-type-number", NULL,
    "{\"choices\":[{\"finish_details\":{\"type\":1},\"message\":{\"content\":\"Hi\"}}]}",
    "Hi", NULL,
    NULL, NULL, NO_COUNT, NO_COUNT, NO_COUNT,
  },
  {
    "content-null", NULL,
    "{\"choices\":[{\"finish_reason\":\"stop\","
    "\"message\":{\"role\":\"assistant\",\"content\":null}}]}",
    "", NULL,
    "stop", NULL, NO_COUNT, NO_COUNT, NO_COUNT,
  },
  {
    "content-filter-without-message", NULL,
    "{\"choices\":[{\"finish_reason\":\"content_filter\",\"content_filter_results\":"
    "{\"violence\":{\"filtered\":true,\"severity\":\"medium\"},"
    "\"hate\":{\"filtered\":false,\"severity\":\"safe\"}}}]}",
    "", NULL,
    "content_filter", "violence (medium)", NO_COUNT, NO_COUNT, NO_COUNT,
  },
  {
    "content-filter-several-categories", NULL,
    "{\"choices\":[{\"finish_reason\":\"content_filter\",\"message\":{\"role\":\"assistant\"},"
    "\"content_filter_results\":{\"hate\":{\"filtered\":true,\"severity\":\"high\"},"
    "\"sexual\":{\"filtered\":true,\"severity\":\"low\"},"
    "\"self_harm\":{\"filtered\":true,\"severity\":\"medium\"}}}]}",
    "", NULL,
    "content_filter", "self-harm (medium)", NO_COUNT, NO_COUNT, NO_COUNT,
  },
  {
    "content-filter-nothing-filtered", NULL,
    "{\"choices\":[{\"finish_reason\":\"content_filter\",\"message\":{\"role\":\"assistant\"},"
    "\"content_filter_results\":{\"hate\":{\"filtered\":false,\"severity\":\"safe\"}}}]}",
    "", NULL,
    "content_filter", NULL, NO_COUNT, NO_COUNT, NO_COUNT,
  },
  {
    "content-filter-results-junk", NULL,
    "{\"choices\":[{\"finish_reason\":\"content_filter\",\"message\":{},"
    "\"content_filter_results\":{\"hate\":true,\"violence\":[1],\"custom_blocklists\":\"x\","
    "\"sexual\":{\"filtered\":\"yes\"},\"unknown\":{\"filtered\":true}}}]}",
    "", NULL,
    "content_filter", NULL, NO_COUNT, NO_COUNT, NO_COUNT,
  },
  {
    "filter-ignored-when-not-filtered", NULL,
    "{\"choices\":[{\"finish_reason\":\"stop\",\"message\":{\"content\":\"Fine\"},"
    "\"content_filter_results\":{\"violence\":{\"filtered\":true,\"severity\":\"low\"}}}]}",
    "Fine", NULL,
    "stop", NULL, NO_COUNT, NO_COUNT, NO_COUNT,
  },
  {
    /* Usage is a courtesy; a reply with odd usage still has its answer. */
    "usage-strings", NULL,
    "{\"choices\":[{\"finish_reason\":\"stop\",\"message\":{\"content\":\"Hi\"}}],"
    "\"usage\":{\"prompt_tokens\":\"12\",\"completion_tokens\":\"3\",\"total_tokens\":\"15\"}}",
    "Hi", NULL,
    "stop", NULL, NO_COUNT, NO_COUNT, NO_COUNT,
  },
  {
    "usage-mixed", NULL,
    "{\"choices\":[{\"message\":{\"content\":\"Hi\"}}],"
    "\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":2.5,\"total_tokens\":-4}}",
    "Hi", NULL,
    NULL, NULL, 12, NO_COUNT, NO_COUNT,
  },
  {
    "usage-not-object", NULL,
    "{\"choices\":[{\"message\":{\"content\":\"Hi\"}}],\"usage\":[12,3,15]}",
    "Hi", NULL,
    NULL, NULL, NO_COUNT, NO_COUNT, NO_COUNT,
  },
  {
    "first-choice-wins", NULL,
    "{\"choices\":[{\"message\":{\"content\":\"First\"},\"finish_reason\":\"stop\"},"
    "{\"message\":{\"content\":\"Second\"},\"finish_reason\":\"length\"}]}",
    "First", NULL,
    "stop", NULL, NO_COUNT, NO_COUNT, NO_COUNT,
  },
  {
    "unicode-and-escapes", NULL,
    "{\"choices\":[{\"message\":"
    "{\"content\":\"Caf\\u00e9 \\ud83d\\udeb2\\n\\t\\\"q\\\" \\\\ 日本\"}}]}",
    "Café 🚲\n\t\"q\" \\ 日本", NULL,
    NULL, NULL, NO_COUNT, NO_COUNT, NO_COUNT,
  },
  {
    "escaped-nul-in-content", NULL,
    "{\"choices\":[{\"message\":{\"content\":\"a\\u0000b\"}}]}",
    "a", NULL,
    NULL, NULL, NO_COUNT, NO_COUNT, NO_COUNT,
  },
  {
    "unknown-members", NULL,
    "{\"id\":\"x\",\"future\":{\"a\":[1,2]},\"choices\":[{\"message\":{\"content\":\"Hi\","
    "\"refusal\":null,\"tool_calls\":[]},\"logprobs\":null,\"index\":0}],"
    "\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1,\"total_tokens\":2,"
    "\"completion_tokens_details\":{\"reasoning_tokens\":0}}}",
    "Hi", NULL,
    NULL, NULL, 1, 1, 2,
  },
};

/* Bodies that are not a reply: each must give UNREADABLE_REPLY. */
typedef struct
{
  const char *name;
  const char *body;
  gssize      length;   /* -1 for strlen */
} MalformedCase;

#define RAW_NUL "{\"choices\":[{\"message\":{\"content\":\"a\0b\"}}]}"
#define NUL_ONLY "\0\0\0\0"

static const MalformedCase malformed_cases[] = {
  { "empty", "", -1 },
  { "blanks", " \n\t ", -1 },
  { "html", "<html><body><h1>502 Bad Gateway</h1></body></html>", -1 },
  { "text", "upstream connect error or disconnect/reset before headers", -1 },
  { "json-array", "[]", -1 },
  { "json-array-of-reply", "[{\"choices\":[{\"message\":{\"content\":\"Hi\"}}]}]", -1 },
  { "json-null", "null", -1 },
  { "json-number", "42", -1 },
  { "json-string", "\"Hi\"", -1 },
  { "json-true", "true", -1 },
  { "truncated", "{\"choices\":[{\"message\":{\"content\":\"The image sh", -1 },
  { "truncated-after-choices", "{\"choices\":", -1 },
  { "unbalanced", "{\"choices\":[{\"message\":{\"content\":\"Hi\"}}]", -1 },
  { "trailing-comma", "{\"choices\":[{\"message\":{\"content\":\"Hi\"},}]}", -1 },
  { "error-body", "{\"error\":{\"code\":\"500\",\"message\":\"Internal error\"}}", -1 },
  { "empty-object", "{}", -1 },
  { "choices-missing", "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\"}", -1 },
  { "choices-empty", "{\"choices\":[]}", -1 },
  { "choices-null", "{\"choices\":null}", -1 },
  { "choices-object", "{\"choices\":{\"0\":{\"message\":{\"content\":\"Hi\"}}}}", -1 },
  { "choices-string", "{\"choices\":\"Hi\"}", -1 },
  { "choices-number", "{\"choices\":1}", -1 },
  { "choice-null", "{\"choices\":[null]}", -1 },
  { "choice-number", "{\"choices\":[1]}", -1 },
  { "choice-string", "{\"choices\":[\"Hi\"]}", -1 },
  { "choice-array", "{\"choices\":[[{\"message\":{\"content\":\"Hi\"}}]]}", -1 },
  { "message-missing", "{\"choices\":[{\"finish_reason\":\"stop\"}]}", -1 },
  { "message-string", "{\"choices\":[{\"message\":\"Hi\",\"finish_reason\":\"stop\"}]}", -1 },
  { "message-array", "{\"choices\":[{\"message\":[\"Hi\"]}]}", -1 },
  { "content-number", "{\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":42}}]}", -1 },
  { "content-boolean", "{\"choices\":[{\"message\":{\"content\":true}}]}", -1 },
  { "content-object", "{\"choices\":[{\"message\":{\"content\":{\"text\":\"Hi\"}}}]}", -1 },
  { "content-array",
    "{\"choices\":[{\"message\":{\"content\":[{\"type\":\"text\",\"text\":\"Hi\"}]}}]}", -1 },
  { "invalid-utf8", "{\"choices\":[{\"message\":{\"content\":\"a\xff\xfe b\"}}]}", -1 },
  { "lone-surrogate", "{\"choices\":[{\"message\":{\"content\":\"\\ud800\"}}]}", -1 },
  { "raw-nul", RAW_NUL, sizeof (RAW_NUL) - 1 },
  { "nul-only", NUL_ONLY, sizeof (NUL_ONLY) - 1 },
};

static void
assert_unreadable (GBytes *body)
{
  g_autoptr(GazeReply) reply = NULL;
  g_autoptr(GError) error = NULL;

  reply = gaze_reply_parse (body, &error);
  if (reply != NULL)
    g_error ("the body was read as a reply with content “%s”", reply->content);
  g_assert_error (error, GAZE_CLIENT_ERROR, GAZE_CLIENT_ERROR_UNREADABLE_REPLY);
  g_assert_true (g_utf8_validate (error->message, -1, NULL));
  g_assert_nonnull (strstr (error->message, "Try again"));
}

static void
test_reply (gconstpointer data)
{
  const ReplyCase *c = data;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GazeReply) reply = NULL;
  g_autoptr(GazeReply) copy = NULL;
  g_autoptr(GError) error = NULL;

  body = c->file ? load_fixture (c->file) : bytes_from_string (c->body);
  reply = gaze_reply_parse (body, &error);
  g_assert_no_error (error);
  g_assert_nonnull (reply);

  g_assert_nonnull (reply->content);
  g_assert_true (g_utf8_validate (reply->content, -1, NULL));
  if (c->content != NULL)
    g_assert_cmpstr (reply->content, ==, c->content);
  else
    g_assert_true (g_str_has_prefix (reply->content, c->content_prefix));

  g_assert_cmpstr (reply->finish_reason, ==, c->finish_reason);

  if (c->filtered != NULL)
    {
      g_assert_nonnull (reply->filtered);
      g_assert_nonnull (strstr (reply->filtered, c->filtered));
    }
  else
    {
      g_assert_null (reply->filtered);
    }

  g_assert_cmpint (reply->prompt_tokens, ==, c->prompt_tokens);
  g_assert_cmpint (reply->completion_tokens, ==, c->completion_tokens);
  g_assert_cmpint (reply->total_tokens, ==, c->total_tokens);

  copy = gaze_reply_copy (reply);
  g_assert_cmpstr (copy->content, ==, reply->content);
  g_assert_cmpstr (copy->finish_reason, ==, reply->finish_reason);
  g_assert_cmpstr (copy->filtered, ==, reply->filtered);
  g_assert_cmpint (copy->total_tokens, ==, reply->total_tokens);
}

static void
test_reply_malformed (gconstpointer data)
{
  const MalformedCase *c = data;
  gsize length = c->length < 0 ? strlen (c->body) : (gsize)c->length;
  g_autoptr(GBytes) body = g_bytes_new (c->body, length);

  assert_unreadable (body);
}

static const char *fixtures[] = {
  "vision-response-gpt-4-vision-preview.json",
  "vision-enhancements-response-finish_details.json",
  "content-filter-completion-200.json",
  "synthetic-2024-10-21-vision-response.json",
  "spec-2024-10-21-chat-completions.json",
};

/* Every cut of a good reply, as when the connection drops, is unreadable. */
static void
test_reply_truncated (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (fixtures); i++)
    {
      g_autoptr(GBytes) whole = load_fixture (fixtures[i]);
      gsize size = g_bytes_get_size (whole);

      /* Leave off at least the closing brace and its newline. */
      for (gsize cut = 0; cut + 2 < size; cut++)
        {
          g_autoptr(GBytes) part = g_bytes_new_from_bytes (whole, 0, cut);
          g_autoptr(GazeReply) reply = NULL;
          g_autoptr(GError) error = NULL;

          reply = gaze_reply_parse (part, &error);
          if (reply != NULL)
            g_error ("%s cut after %" G_GSIZE_FORMAT " bytes was read as a reply",
                     fixtures[i], cut);
          g_assert_error (error, GAZE_CLIENT_ERROR, GAZE_CLIENT_ERROR_UNREADABLE_REPLY);
        }
    }
}

/* Random damage to good replies: either a reply or UNREADABLE_REPLY, never
 * a crash, a critical or text that is not UTF-8. The seed is fixed so that
 * a failure can be replayed.
 */
static void
test_reply_damaged (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (1736906666);

  for (guint i = 0; i < G_N_ELEMENTS (fixtures); i++)
    {
      g_autoptr(GBytes) whole = load_fixture (fixtures[i]);

      for (guint round = 0; round < 400; round++)
        {
          gsize size = 0;
          const guint8 *data = g_bytes_get_data (whole, &size);
          g_autofree guint8 *copy = g_memdup2 (data, size);
          g_autoptr(GBytes) damaged = NULL;
          g_autoptr(GazeReply) reply = NULL;
          g_autoptr(GError) error = NULL;
          guint changes = g_rand_int_range (rand, 1, 4);

          for (guint k = 0; k < changes; k++)
            copy[g_rand_int_range (rand, 0, size)] = (guint8)g_rand_int_range (rand, 0, 256);

          damaged = g_bytes_new_take (g_steal_pointer (&copy), size);
          reply = gaze_reply_parse (damaged, &error);

          if (reply != NULL)
            {
              g_assert_no_error (error);
              g_assert_nonnull (reply->content);
              g_assert_true (g_utf8_validate (reply->content, -1, NULL));
              g_assert_true (reply->finish_reason == NULL ||
                             g_utf8_validate (reply->finish_reason, -1, NULL));
            }
          else
            {
              g_assert_error (error, GAZE_CLIENT_ERROR, GAZE_CLIENT_ERROR_UNREADABLE_REPLY);
            }
        }
    }
}

/* Deep nesting, as a hostile or broken proxy could send. Each runs in a
 * child process, so that running out of stack fails this case only.
 */
typedef enum
{
  DEEP_UNREADABLE,
  DEEP_UNREADABLE_OR_READ,
} DeepExpectation;

typedef struct
{
  const char      *name;
  const char      *prefix;
  const char      *open;
  const char      *close;
  const char      *suffix;
  guint            depth;
  DeepExpectation  expect;
} DeepCase;

static const DeepCase deep_cases[] = {
  { "root-arrays-10k", "", "[", "]", "", 10000, DEEP_UNREADABLE },
  { "choices-arrays-10k", "{\"choices\":", "[", "]", "}", 10000, DEEP_UNREADABLE },
  { "content-objects-10k", "{\"choices\":[{\"message\":{\"content\":", "{\"a\":", "}", "}}]}",
    10000, DEEP_UNREADABLE },
  { "unclosed-10k", "{\"choices\":[", "[", "", "", 10000, DEEP_UNREADABLE },
  { "sibling-junk-10k", "{\"choices\":[{\"message\":{\"content\":\"x\"},\"junk\":", "[", "]", "}]}",
    10000, DEEP_UNREADABLE_OR_READ },
  { "root-arrays-1m", "", "[", "]", "", 1000000, DEEP_UNREADABLE },
  { "content-objects-1m", "{\"choices\":[{\"message\":{\"content\":", "{\"a\":", "}", "}}]}",
    1000000, DEEP_UNREADABLE },
  { "sibling-junk-1m", "{\"choices\":[{\"message\":{\"content\":\"x\"},\"junk\":", "[", "]", "}]}",
    1000000, DEEP_UNREADABLE_OR_READ },
};

static GBytes *
make_deep_body (const DeepCase *c)
{
  GString *text = g_string_new (c->prefix);

  for (guint i = 0; i < c->depth; i++)
    g_string_append (text, c->open);
  for (guint i = 0; i < c->depth; i++)
    g_string_append (text, c->close);
  g_string_append (text, c->suffix);

  return g_string_free_to_bytes (text);
}

static void
test_reply_deep (gconstpointer data)
{
  const DeepCase *c = data;

  if (g_test_subprocess ())
    {
      g_autoptr(GBytes) body = make_deep_body (c);
      g_autoptr(GazeReply) reply = NULL;
      g_autoptr(GError) error = NULL;

      reply = gaze_reply_parse (body, &error);
      if (reply != NULL && c->expect == DEEP_UNREADABLE_OR_READ)
        g_assert_cmpstr (reply->content, ==, "x");
      else
        g_assert_error (error, GAZE_CLIENT_ERROR, GAZE_CLIENT_ERROR_UNREADABLE_REPLY);
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

/* Failed responses. */

/* retry_after with this value is replaced by an HTTP date two minutes
 * from now, as a server would send it.
 */
#define IN_TWO_MINUTES "@in-two-minutes"
#define NO_WAIT (-1)

typedef struct
{
  const char      *name;
  guint            status;
  const char      *file;          /* in tests/data/replies, or NULL for body */
  const char      *body;          /* NULL for no body at all */
  const char      *deployment;
  const char      *retry_after;
  const char      *retry_after_ms;
  const char      *request_id;
  GazeClientError  code;
  gint64           wait_min;
  gint64           wait_max;
  const char      *says[3];       /* what the message must contain */
} HttpCase;

static const HttpCase http_cases[] = {
  { "401", 401, NULL,
    "{\"error\":{\"code\":\"401\",\"message\":\"Access denied due to invalid subscription key "
    "or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a "
    "correct regional API endpoint for your resource.\"}}",
    "gpt4v", NULL, NULL, "req-401",
    GAZE_CLIENT_ERROR_UNAUTHORIZED, NO_WAIT, NO_WAIT, { "API key", "Preferences" } },
  { "401-no-body", 401, NULL, NULL, NULL, NULL, NULL, NULL,
    GAZE_CLIENT_ERROR_UNAUTHORIZED, NO_WAIT, NO_WAIT, { "Preferences" } },
  { "403", 403, NULL,
    "{\"error\":{\"code\":\"403\","
    "\"message\":\"Traffic is not from an approved private endpoint.\"}}",
    "gpt4v", NULL, NULL, "req-403",
    GAZE_CLIENT_ERROR_FORBIDDEN, NO_WAIT, NO_WAIT, { "Check", "Networking" } },
  { "404-deployment-not-found", 404, NULL,
    "{\"error\":{\"code\":\"DeploymentNotFound\","
    "\"message\":\"The API deployment for this resource does not exist. If you created the "
    "deployment within the last 5 minutes, please wait a moment and try again.\"}}",
    "gpt4v", NULL, NULL, "req-404",
    GAZE_CLIENT_ERROR_DEPLOYMENT_NOT_FOUND, NO_WAIT, NO_WAIT,
    { "“gpt4v”", "Deployments", "Check" } },
  { "404-deployment-not-found-unnamed", 404, NULL,
    "{\"error\":{\"code\":\"DeploymentNotFound\","
    "\"message\":\"The API deployment for this resource does not exist.\"}}",
    NULL, NULL, NULL, NULL,
    GAZE_CLIENT_ERROR_DEPLOYMENT_NOT_FOUND, NO_WAIT, NO_WAIT, { "Deployments", "Check" } },
  { "404-resource-not-found", 404, NULL,
    "{\"error\":{\"code\":\"404\",\"message\":\"Resource not found\"}}",
    "gpt4v", NULL, NULL, NULL,
    GAZE_CLIENT_ERROR_ENDPOINT_NOT_FOUND, NO_WAIT, NO_WAIT, { "endpoint", "Preferences" } },
  { "404-html", 404, NULL, "<html><body>Not Found</body></html>", "gpt4v", NULL, NULL, NULL,
    GAZE_CLIENT_ERROR_ENDPOINT_NOT_FOUND, NO_WAIT, NO_WAIT, { "Preferences" } },
  { "404-no-body", 404, NULL, NULL, "gpt4v", NULL, NULL, NULL,
    GAZE_CLIENT_ERROR_ENDPOINT_NOT_FOUND, NO_WAIT, NO_WAIT, { "Preferences" } },
  { "429-retry-after", 429, "rate-limit-429.json", NULL, "gpt4v", "10", NULL, "req-429",
    GAZE_CLIENT_ERROR_RATE_LIMITED, 10000, 10000, { "Try again in 10 seconds" } },
  { "429-retry-after-one", 429, NULL, "{}", "gpt4v", "1", NULL, NULL,
    GAZE_CLIENT_ERROR_RATE_LIMITED, 1000, 1000, { "Try again in 1 second," } },
  { "429-retry-after-ms", 429, NULL, "{}", "gpt4v", NULL, "1500", NULL,
    GAZE_CLIENT_ERROR_RATE_LIMITED, 1500, 1500, { "Try again in 2 seconds" } },
  { "429-retry-after-ms-wins", 429, "rate-limit-429.json", NULL, "gpt4v", "10", "250", NULL,
    GAZE_CLIENT_ERROR_RATE_LIMITED, 250, 250, { "Try again in 1 second," } },
  { "429-http-date", 429, NULL, NULL, "gpt4v", IN_TWO_MINUTES, NULL, NULL,
    GAZE_CLIENT_ERROR_RATE_LIMITED, 115000, 120000, { "Try again in" } },
  { "429-message-only", 429, "rate-limit-429.json", NULL, "gpt4v", NULL, NULL, NULL,
    GAZE_CLIENT_ERROR_RATE_LIMITED, 86400000, 86400000, { "Try again in 24 hours" } },
  { "429-bad-headers-message", 429, "rate-limit-429.json", NULL, "gpt4v", "soon", "-5", NULL,
    GAZE_CLIENT_ERROR_RATE_LIMITED, 86400000, 86400000, { "Try again" } },
  { "429-nothing", 429, NULL, "{\"error\":{\"code\":\"429\"}}", "gpt4v", NULL, NULL, NULL,
    GAZE_CLIENT_ERROR_RATE_LIMITED, NO_WAIT, NO_WAIT, { "try again" } },
  { "429-garbage", 429, NULL, "Too Many Requests", "gpt4v", "30", NULL, NULL,
    GAZE_CLIENT_ERROR_RATE_LIMITED, 30000, 30000, { "Try again in 30 seconds" } },
  { "400-content-filter", 400, "content-filter-prompt-400.json", NULL,
    "gpt4v", NULL, NULL, "req-400",
    GAZE_CLIENT_ERROR_CONTENT_FILTERED, NO_WAIT, NO_WAIT, { "blocked word list", "Rephrase" } },
  { "400-content-filter-categories", 400, NULL,
    "{\"error\":{\"message\":\"The response was filtered\",\"type\":null,\"param\":\"prompt\","
    "\"code\":\"content_filter\",\"status\":400,"
    "\"innererror\":{\"code\":\"ResponsibleAIPolicyViolation\","
    "\"content_filter_result\":{\"hate\":{\"filtered\":true,\"severity\":\"high\"},"
    "\"jailbreak\":{\"filtered\":true,\"detected\":true},"
    "\"violence\":{\"filtered\":false,\"severity\":\"safe\"}}}}}",
    "gpt4v", NULL, NULL, NULL,
    GAZE_CLIENT_ERROR_CONTENT_FILTERED, NO_WAIT, NO_WAIT,
    { "hate (high)", "jailbreak", "Rephrase" } },
  { "400-content-filter-plural-results", 400, NULL,
    "{\"error\":{\"code\":\"content_filter\",\"innererror\":{\"content_filter_results\":"
    "{\"sexual\":{\"filtered\":true,\"severity\":\"medium\"}}}}}",
    "gpt4v", NULL, NULL, NULL,
    GAZE_CLIENT_ERROR_CONTENT_FILTERED, NO_WAIT, NO_WAIT,
    { "sexual content (medium)", "Rephrase" } },
  { "400-content-filter-no-details", 400, NULL,
    "{\"error\":{\"code\":\"content_filter\",\"message\":\"The response was filtered\"}}",
    "gpt4v", NULL, NULL, NULL,
    GAZE_CLIENT_ERROR_CONTENT_FILTERED, NO_WAIT, NO_WAIT, { "Rephrase" } },
  { "400-message-and-param", 400, NULL,
    "{\"error\":{\"code\":\"BadRequest\",\"message\":\"Invalid value for 'detail': 'medium'.\","
    "\"param\":\"messages.[0].content.[1].image_url.detail\",\"type\":\"invalid_request_error\"}}",
    "gpt4v", NULL, NULL, "req-400b",
    GAZE_CLIENT_ERROR_BAD_REQUEST, NO_WAIT, NO_WAIT,
    { "Invalid value for 'detail': 'medium'.", "messages.[0].content.[1].image_url.detail" } },
  { "400-message-only", 400, NULL,
    "{\"error\":{\"code\":null,"
    "\"message\":\"Too many images in request. Max is 10.\",\"param\":null}}",
    "gpt4v", NULL, NULL, NULL,
    GAZE_CLIENT_ERROR_BAD_REQUEST, NO_WAIT, NO_WAIT, { "Too many images in request. Max is 10." } },
  { "400-no-body", 400, NULL, NULL, "gpt4v", NULL, NULL, NULL,
    GAZE_CLIENT_ERROR_BAD_REQUEST, NO_WAIT, NO_WAIT, { "Preferences" } },
  { "400-garbage", 400, NULL, "{\"error\":\"bad\"}", "gpt4v", NULL, NULL, NULL,
    GAZE_CLIENT_ERROR_BAD_REQUEST, NO_WAIT, NO_WAIT, { "Preferences" } },
  { "400-wrong-types", 400, NULL, "{\"error\":{\"code\":400,\"message\":[\"x\"],\"param\":{}}}",
    "gpt4v", NULL, NULL, NULL,
    GAZE_CLIENT_ERROR_BAD_REQUEST, NO_WAIT, NO_WAIT, { "Preferences" } },
  { "500", 500, NULL, "{\"error\":{\"code\":\"InternalServerError\",\"message\":\"Oops\"}}",
    "gpt4v", NULL, NULL, "req-500",
    GAZE_CLIENT_ERROR_SERVER_ERROR, NO_WAIT, NO_WAIT, { "500", "Try again" } },
  { "502-html", 502, NULL, "<html><body>502 Bad Gateway</body></html>", "gpt4v", NULL, NULL, NULL,
    GAZE_CLIENT_ERROR_SERVER_ERROR, NO_WAIT, NO_WAIT, { "502", "Try again" } },
  { "503-retry-after", 503, NULL, NULL, "gpt4v", "5", NULL, NULL,
    GAZE_CLIENT_ERROR_SERVER_ERROR, 5000, 5000, { "503", "Try again" } },
  { "504", 504, NULL, "", "gpt4v", NULL, NULL, NULL,
    GAZE_CLIENT_ERROR_SERVER_ERROR, NO_WAIT, NO_WAIT, { "504", "Try again" } },
  { "599", 599, NULL, "\xff\xfe", "gpt4v", NULL, NULL, NULL,
    GAZE_CLIENT_ERROR_SERVER_ERROR, NO_WAIT, NO_WAIT, { "599", "Try again" } },
  { "418", 418, NULL, "I'm a teapot", "gpt4v", NULL, NULL, "req-418",
    GAZE_CLIENT_ERROR_HTTP, NO_WAIT, NO_WAIT, { "418", "Preferences", "try again" } },
  { "409-json", 409, NULL, "{\"error\":{\"code\":\"409\",\"message\":\"Conflict\"}}",
    "gpt4v", NULL, NULL, NULL,
    GAZE_CLIENT_ERROR_HTTP, NO_WAIT, NO_WAIT, { "409", "Preferences" } },
  { "302", 302, NULL, NULL, "gpt4v", NULL, NULL, NULL,
    GAZE_CLIENT_ERROR_HTTP, NO_WAIT, NO_WAIT, { "302", "Preferences" } },
};

static void
test_http_error (gconstpointer data)
{
  const HttpCase *c = data;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) copy = NULL;
  g_autofree char *date = NULL;
  const char *retry_after = c->retry_after;
  gint64 wait;

  if (c->file != NULL)
    body = load_fixture (c->file);
  else if (c->body != NULL)
    body = bytes_from_string (c->body);

  if (g_strcmp0 (retry_after, IN_TWO_MINUTES) == 0)
    {
      g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
      g_autoptr(GDateTime) then = g_date_time_add_seconds (now, 120);

      date = soup_date_time_to_string (then, SOUP_DATE_HTTP);
      retry_after = date;
    }

  error = gaze_client_error_new_from_http (c->status, body, c->deployment,
                                           retry_after, c->retry_after_ms, c->request_id);

  g_assert_error (error, GAZE_CLIENT_ERROR, (int)c->code);
  g_assert_nonnull (error->message);
  g_assert_true (g_utf8_validate (error->message, -1, NULL));
  g_assert_cmpuint (g_utf8_strlen (error->message, -1), >, 20);
  g_assert_null (strchr (error->message, '\n'));

  for (guint i = 0; i < G_N_ELEMENTS (c->says) && c->says[i] != NULL; i++)
    {
      if (strstr (error->message, c->says[i]) == NULL)
        g_error ("the message for %s does not say “%s”: %s",
                 c->name,
                 c->says[i],
                 error->message);
    }

  wait = gaze_client_error_get_retry_after_ms (error);
  g_assert_cmpint (wait, >=, c->wait_min);
  g_assert_cmpint (wait, <=, c->wait_max);

  g_assert_cmpstr (gaze_client_error_get_request_id (error), ==, c->request_id);

  /* The extra fields travel with copies, as GTask makes them. */
  copy = g_error_copy (error);
  g_assert_error (copy, GAZE_CLIENT_ERROR, (int)c->code);
  g_assert_cmpstr (copy->message, ==, error->message);
  g_assert_cmpint (gaze_client_error_get_retry_after_ms (copy), ==, wait);
  g_assert_cmpstr (gaze_client_error_get_request_id (copy), ==, c->request_id);
}

/* A long service message is cut, so that it fits in a banner. */
static void
test_http_error_long_message (void)
{
  g_autoptr(GString) text = g_string_new ("{\"error\":{\"code\":\"BadRequest\",\"message\":\"");
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < 200; i++)
    g_string_append (text, "This is far too long.\\n ");
  g_string_append (text, "\"}}");
  body = g_bytes_new (text->str, text->len);

  error = gaze_client_error_new_from_http (400, body, "gpt4v", NULL, NULL, NULL);
  g_assert_error (error, GAZE_CLIENT_ERROR, GAZE_CLIENT_ERROR_BAD_REQUEST);
  g_assert_nonnull (strstr (error->message, "This is far too long."));
  g_assert_nonnull (strstr (error->message, "…"));
  g_assert_null (strchr (error->message, '\n'));
  g_assert_cmpuint (g_utf8_strlen (error->message, -1), <, 400);
  g_assert_true (g_utf8_validate (error->message, -1, NULL));
}

static void
test_http_error_deep_body (void)
{
  if (g_test_subprocess ())
    {
      GString *text = g_string_new ("{\"error\":");
      g_autoptr(GBytes) body = NULL;
      g_autoptr(GError) error = NULL;

      for (guint i = 0; i < 1000000; i++)
        g_string_append_c (text, '[');
      for (guint i = 0; i < 1000000; i++)
        g_string_append_c (text, ']');
      g_string_append_c (text, '}');
      body = g_string_free_to_bytes (text);

      error = gaze_client_error_new_from_http (400, body, "gpt4v", NULL, NULL, NULL);
      g_assert_error (error, GAZE_CLIENT_ERROR, GAZE_CLIENT_ERROR_BAD_REQUEST);
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

static void
test_error_literal (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) other = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "x");

  error = gaze_client_error_new_literal (GAZE_CLIENT_ERROR_TIMEOUT,
                                         "Azure did not answer.", "req-1");
  g_assert_error (error, GAZE_CLIENT_ERROR, GAZE_CLIENT_ERROR_TIMEOUT);
  g_assert_cmpstr (error->message, ==, "Azure did not answer.");
  g_assert_cmpstr (gaze_client_error_get_request_id (error), ==, "req-1");
  g_assert_cmpint (gaze_client_error_get_retry_after_ms (error), ==, -1);

  /* Errors of other domains have neither. */
  g_assert_null (gaze_client_error_get_request_id (other));
  g_assert_cmpint (gaze_client_error_get_retry_after_ms (other), ==, -1);
  g_assert_null (gaze_client_error_get_request_id (NULL));
  g_assert_cmpint (gaze_client_error_get_retry_after_ms (NULL), ==, -1);
}

/* gaze_client_parse_retry_after, with "now" at Wed, 21 Oct 2015 07:28:00 GMT. */
typedef struct
{
  const char *name;
  const char *retry_after;
  const char *retry_after_ms;
  const char *message;
  gint64      expected;
} RetryCase;

static const RetryCase retry_cases[] = {
  { "nothing", NULL, NULL, NULL, -1 },
  { "seconds", "5", NULL, NULL, 5000 },
  { "zero", "0", NULL, NULL, 0 },
  { "seconds-blanks", " 7 ", NULL, NULL, 7000 },
  { "seconds-day", "86400", NULL, NULL, 86400000 },
  { "seconds-fraction", "1.5", NULL, NULL, 1500 },
  { "seconds-negative", "-1", NULL, NULL, -1 },
  { "seconds-junk", "abc", NULL, NULL, -1 },
  { "seconds-trailing-junk", "5s", NULL, NULL, -1 },
  { "seconds-empty", "", NULL, NULL, -1 },
  { "seconds-nan", "nan", NULL, NULL, -1 },
  { "seconds-huge", "1e300", NULL, NULL, -1 },
  { "ms", NULL, "250", NULL, 250 },
  { "ms-zero", NULL, "0", NULL, 0 },
  { "ms-wins", "5", "250", NULL, 250 },
  { "ms-negative-falls-back", "5", "-250", NULL, 5000 },
  { "ms-junk-falls-back", "5", "soon", NULL, 5000 },
  { "date-in-a-minute", "Wed, 21 Oct 2015 07:29:00 GMT", NULL, NULL, 60000 },
  { "date-now", "Wed, 21 Oct 2015 07:28:00 GMT", NULL, NULL, 0 },
  { "date-past", "Wed, 21 Oct 2015 07:00:00 GMT", NULL, NULL, 0 },
  { "date-rfc850", "Wednesday, 21-Oct-15 07:28:30 GMT", NULL, NULL, 30000 },
  { "date-asctime", "Wed Oct 21 07:30:00 2015", NULL, NULL, 120000 },
  { "date-loses-to-ms", "Wed, 21 Oct 2015 07:29:00 GMT", "100", NULL, 100 },
  { "message", NULL, NULL, "Please retry after 86400 seconds.", 86400000 },
  { "message-azure",
    NULL, NULL,
    "Requests to the ChatCompletions_Create Operation under Azure OpenAI API version "
    "2024-05-01-preview have exceeded token rate limit of your current OpenAI S0 pricing tier. "
    "Please retry after 86400 seconds. Please go here: https://aka.ms/oai/quotaincrease if you "
    "would like to further increase the default rate limit.",
    86400000 },
  { "message-one-second", NULL, NULL,
    "Rate limit is exceeded. Try again in a bit; retry after 1 second.", 1000 },
  { "message-upper-case", NULL, NULL, "PLEASE RETRY AFTER 3 SECONDS", 3000 },
  { "message-without-number", NULL, NULL, "Please retry after some time.", -1 },
  { "message-too-many-digits", NULL, NULL, "Please retry after 12345678901 seconds.", -1 },
  { "message-loses-to-header", "2", NULL, "Please retry after 86400 seconds.", 2000 },
  { "message-after-bad-header", "later", NULL, "Please retry after 4 seconds.", 4000 },
};

static void
test_retry_after (void)
{
  g_autoptr(GDateTime) now = g_date_time_new_utc (2015, 10, 21, 7, 28, 0);

  for (guint i = 0; i < G_N_ELEMENTS (retry_cases); i++)
    {
      const RetryCase *c = &retry_cases[i];
      gint64 ms;

      ms = gaze_client_parse_retry_after (c->retry_after, c->retry_after_ms, c->message, now);

      if (ms != c->expected)
        g_error ("retry-after case %s: got %" G_GINT64_FORMAT ", expected %" G_GINT64_FORMAT,
                 c->name, ms, c->expected);
    }
}

static void
test_format_wait (void)
{
  static const struct {
    gint64      ms;
    const char *words;
  } cases[] = {
    { 0, "1 second" },
    { 1, "1 second" },
    { 1000, "1 second" },
    { 1001, "2 seconds" },
    { 7000, "7 seconds" },
    { 89000, "89 seconds" },
    { 90000, "2 minutes" },
    { 3600000, "60 minutes" },
    { 5340000, "89 minutes" },
    { 5400000, "2 hours" },
    { 86400000, "24 hours" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *words = gaze_client_format_wait (cases[i].ms);

      g_assert_cmpstr (words, ==, cases[i].words);
    }
}

static void
test_should_retry (void)
{
  g_autoptr(GError) io = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "x");
  g_autoptr(GError) key = gaze_client_error_new_from_http (401, NULL, NULL, NULL, NULL, NULL);
  g_autoptr(GError) soon = gaze_client_error_new_from_http (429, NULL, NULL, "3", NULL, NULL);
  g_autoptr(GError) tomorrow = gaze_client_error_new_from_http (429,
                                                                 NULL,
                                                                 NULL,
                                                                 "86400",
                                                                 NULL,
                                                                 NULL);
  g_autoptr(GError) unsaid = gaze_client_error_new_from_http (429, NULL, NULL, NULL, NULL, NULL);
  g_autoptr(GError) server = gaze_client_error_new_from_http (503, NULL, NULL, NULL, NULL, NULL);
  gint64 delay;

  g_assert_false (gaze_client_error_should_retry (io, 0, &delay));
  g_assert_false (gaze_client_error_should_retry (key, 0, &delay));

  /* Rate limits wait as long as the service asked, twice at most. */
  g_assert_true (gaze_client_error_should_retry (soon, 0, &delay));
  g_assert_cmpint (delay, ==, 3000);
  g_assert_true (gaze_client_error_should_retry (soon, 1, &delay));
  g_assert_cmpint (delay, ==, 3000);
  g_assert_false (gaze_client_error_should_retry (soon, 2, &delay));

  /* A day is said, not counted down. */
  g_assert_false (gaze_client_error_should_retry (tomorrow, 0, &delay));

  g_assert_true (gaze_client_error_should_retry (unsaid, 0, &delay));
  g_assert_cmpint (delay, >, 0);

  /* Server errors back off, with jitter. */
  for (guint i = 0; i < 50; i++)
    {
      g_assert_true (gaze_client_error_should_retry (server, 0, &delay));
      g_assert_cmpint (delay, >=, 1000);
      g_assert_cmpint (delay, <, 1500);
      g_assert_true (gaze_client_error_should_retry (server, 1, &delay));
      g_assert_cmpint (delay, >=, 2000);
      g_assert_cmpint (delay, <, 2500);
    }
  g_assert_false (gaze_client_error_should_retry (server, 2, &delay));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (reply_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/reply/parse/%s", reply_cases[i].name);
      g_test_add_data_func (path, &reply_cases[i], test_reply);
    }

  for (guint i = 0; i < G_N_ELEMENTS (malformed_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/reply/malformed/%s", malformed_cases[i].name);
      g_test_add_data_func (path, &malformed_cases[i], test_reply_malformed);
    }

  g_test_add_func ("/reply/truncated", test_reply_truncated);
  g_test_add_func ("/reply/damaged", test_reply_damaged);

  for (guint i = 0; i < G_N_ELEMENTS (http_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/client-error/http/%s", http_cases[i].name);
      g_test_add_data_func (path, &http_cases[i], test_http_error);
    }

  g_test_add_func ("/client-error/http/long-message", test_http_error_long_message);
  g_test_add_func ("/client-error/literal", test_error_literal);
  g_test_add_func ("/client-error/retry-after", test_retry_after);
  g_test_add_func ("/client-error/format-wait", test_format_wait);
  g_test_add_func ("/client-error/should-retry", test_should_retry);

  /* Last, because a parser that runs out of stack takes the run with it. */
  for (guint i = 0; i < G_N_ELEMENTS (deep_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/deep/reply/%s", deep_cases[i].name);
      g_test_add_data_func (path, &deep_cases[i], test_reply_deep);
    }

  g_test_add_func ("/deep/client-error/http-body", test_http_error_deep_body);

  return g_test_run ();
}
