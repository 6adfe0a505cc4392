/* test-stream.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Streamed answers: the chunk reader on its own, then the client against
 * the loopback server, which streams the way Azure does (a first event
 * without choices, a role event, one event per word, pieces cut inside
 * events and inside UTF-8 characters) or sends the transcripts and
 * hand-made streams the tests queue.
 */

#include "config.h"

#include <string.h>
#include <json-glib/json-glib.h>

#include "gaze-client.h"
#include "gaze-stream.h"
#include "gaze-test-fixture.h"

static char *
dup_whole_answer (GazeTestFixture *fixture,
                  const char      *question)
{
  g_autoptr(GazeRequest) request = gaze_test_request_new (question, NULL);
  char *content;
  GazeTestResult r;

  gaze_test_fixture_complete (fixture, request, &r);
  g_assert_no_error (r.error);
  g_assert_false (gaze_test_server_get_last_stream (fixture->server));
  content = g_strdup (r.reply->content);
  gaze_test_result_clear (&r);

  return content;
}

static JsonObject *
get_last_body_object (GazeTestFixture *fixture)
{
  JsonNode *body = gaze_test_server_get_last_body (fixture->server);

  g_assert_nonnull (body);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (body));

  return json_node_get_object (body);
}

/* A stream, built event by event. */

static void
add_event (GString    *stream,
           const char *json)
{
  g_string_append_printf (stream, "data: %s\n\n", json);
}

static void
add_content (GString    *stream,
             const char *text)
{
  g_autoptr(JsonNode) node = json_node_init_string (json_node_alloc (), text);
  g_autofree char *quoted = json_to_string (node, FALSE);

  g_string_append_printf (stream,
                          "data: {\"choices\":[{\"content_filter_results\":{},"
                          "\"delta\":{\"content\":%s},"
                          "\"finish_reason\":null,\"index\":0}],"
                          "\"created\":1,\"id\":\"chatcmpl-x\","
                          "\"model\":\"gpt-4o\",\"object\":\"chat.completion.chunk\"}\n\n",
                          quoted);
}

static GString *
begin_stream (void)
{
  GString *stream = g_string_new (NULL);

  add_event (stream, "{\"choices\":[],\"created\":0,\"id\":\"\",\"model\":\"\",\"object\":\"\","
                     "\"prompt_filter_results\":[{\"prompt_index\":0,"
                     "\"content_filter_results\":{}}]}");
  add_event (stream, "{\"choices\":[{\"content_filter_results\":{},\"delta\":{\"content\":\"\","
                     "\"refusal\":null,\"role\":\"assistant\"},"
                     "\"finish_reason\":null,\"index\":0}],"
                     "\"created\":1,\"id\":\"chatcmpl-x\",\"model\":\"gpt-4o\","
                     "\"object\":\"chat.completion.chunk\"}");

  return stream;
}

static void
add_finish (GString    *stream,
            const char *reason)
{
  g_string_append_printf (stream,
                          "data: {\"choices\":[{\"content_filter_results\":{},\"delta\":{},"
                          "\"finish_reason\":\"%s\",\"index\":0}],"
                          "\"created\":1,\"id\":\"chatcmpl-x\","
                          "\"model\":\"gpt-4o\",\"object\":\"chat.completion.chunk\"}\n\n",
                          reason);
}

static void
queue_stream (GazeTestFixture *fixture,
              GString         *stream)
{
  gaze_test_server_queue_reply (fixture->server, 200, "text/event-stream; charset=utf-8",
                                stream->str, NULL);
}

/* The chunk reader on its own */

static void
test_reader_quirks (void)
{
  g_autoptr(GazeStream) stream = gaze_stream_new ();
  g_autoptr(GazeReply) reply = NULL;
  g_autoptr(GError) error = NULL;
  static const char * const chunks[] = {
    /* Prompt filter results, no choices */
    "{\"choices\":[],\"prompt_filter_results\":[{\"prompt_index\":0}]}",
    /* The older name of the same */
    "{\"choices\":[],\"prompt_annotations\":[]}",
    /* Role event */
    "{\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null},"
    "\"index\":0}]}",
    /* Content */
    "{\"choices\":[{\"delta\":{\"content\":\"A\"},\"index\":0,\"finish_reason\":null}]}",
    /* No index: the one choice */
    "{\"choices\":[{\"delta\":{\"content\":\"b\"}}]}",
    /* Another choice's text is not ours */
    "{\"choices\":[{\"delta\":{\"content\":\"X\"},\"index\":1}]}",
    /* Elements that are not choices */
    "{\"choices\":[null,3,\"x\",[],{\"delta\":{\"content\":\"c\"},\"index\":0}]}",
    /* Null content, no delta, delta of the wrong type */
    "{\"choices\":[{\"delta\":{\"content\":null},\"index\":0}]}",
    "{\"choices\":[{\"index\":0,\"content_filter_offsets\":{\"check_offset\":1}}]}",
    "{\"choices\":[{\"delta\":\"d\",\"index\":0}]}",
    /* Choices of the wrong type, or none */
    "{\"choices\":{\"delta\":{\"content\":\"Y\"}}}",
    "{\"choices\":null}",
    "{}",
    /* Finish, then what Azure still sends after it */
    "{\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\",\"index\":0}]}",
    "{\"choices\":[{\"index\":0,\"finish_reason\":null,\"content_filter_results\":{}}],"
    "\"usage\":null}",
    "{\"choices\":[],"
    "\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":\"3\",\"total_tokens\":13}}",
  };

  for (guint i = 0; i < G_N_ELEMENTS (chunks); i++)
    {
      if (!gaze_stream_read_chunk (stream, chunks[i], strlen (chunks[i]), &error))
        g_error ("chunk %u: %s", i, error->message);
    }

  /* Blank events are keep-alives. */
  g_assert_true (gaze_stream_read_chunk (stream, "", 0, &error));
  g_assert_true (gaze_stream_read_chunk (stream, " \n", 2, &error));

  g_assert_cmpstr (gaze_stream_get_text (stream), ==, "Abc");
  reply = gaze_stream_finish (stream, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (reply->content, ==, "Abc");
  g_assert_cmpstr (reply->finish_reason, ==, "stop");
  g_assert_false (reply->truncated);
  g_assert_null (reply->filtered);
  g_assert_cmpint (reply->prompt_tokens, ==, 10);
  g_assert_cmpint (reply->completion_tokens, ==, -1);
  g_assert_cmpint (reply->total_tokens, ==, 13);
}

typedef struct
{
  const char *name;
  const char *chunk;
  int         code;
} BadChunk;

static const BadChunk bad_chunks[] = {
  { "not-json", "{not json", GAZE_CLIENT_ERROR_UNREADABLE_REPLY },
  { "array", "[1,2]", GAZE_CLIENT_ERROR_UNREADABLE_REPLY },
  { "string", "\"text\"", GAZE_CLIENT_ERROR_UNREADABLE_REPLY },
  { "content-number", "{\"choices\":[{\"delta\":{\"content\":3},\"index\":0}]}",
    GAZE_CLIENT_ERROR_UNREADABLE_REPLY },
  { "content-object", "{\"choices\":[{\"delta\":{\"content\":{}},\"index\":0}]}",
    GAZE_CLIENT_ERROR_UNREADABLE_REPLY },
  { "error",
    "{\"error\":{\"message\":\"Oops\",\"type\":\"server_error\",\"param\":null,\"code\":null}}",
    GAZE_CLIENT_ERROR_SERVER_ERROR },
  { "error-string", "{\"error\":\"Oops\"}", GAZE_CLIENT_ERROR_SERVER_ERROR },
  { "error-content-filter", "{\"error\":{\"code\":\"content_filter\",\"message\":\"x\"}}",
    GAZE_CLIENT_ERROR_CONTENT_FILTERED },
  { "error-rate-limit",
    "{\"error\":{\"code\":\"429\",\"message\":\"Please retry after 7 seconds.\"}}",
    GAZE_CLIENT_ERROR_RATE_LIMITED },
  { "error-rate-limit-number", "{\"error\":{\"code\":429}}", GAZE_CLIENT_ERROR_RATE_LIMITED },
  { "deep",
    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
    "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
    GAZE_CLIENT_ERROR_UNREADABLE_REPLY },
};

/* A chunk that cannot be read ends the stream, and the text before it
 * stays.
 */
static void
test_reader_bad_chunks (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (bad_chunks); i++)
    {
      const BadChunk *c = &bad_chunks[i];
      g_autoptr(GazeStream) stream = gaze_stream_new ();
      g_autoptr(GazeReply) reply = NULL;
      g_autoptr(GError) error = NULL;
      const char *good = "{\"choices\":[{\"delta\":{\"content\":\"Partial\"},\"index\":0}]}";

      g_test_message ("%s", c->name);
      g_assert_true (gaze_stream_read_chunk (stream, good, strlen (good), &error));
      g_assert_false (gaze_stream_read_chunk (stream, c->chunk, strlen (c->chunk), &error));
      g_assert_error (error, GAZE_CLIENT_ERROR, c->code);
      g_clear_error (&error);

      /* Nothing more is read. */
      g_assert_false (gaze_stream_read_chunk (stream, good, strlen (good), &error));
      g_assert_error (error, GAZE_CLIENT_ERROR, c->code);
      g_clear_error (&error);
      g_assert_false (gaze_stream_feed (stream, "data: {}\n\n", 10, &error));
      g_assert_error (error, GAZE_CLIENT_ERROR, c->code);
      g_clear_error (&error);

      g_assert_cmpstr (gaze_stream_get_text (stream), ==, "Partial");
      g_assert_null ((reply = gaze_stream_finish (stream, &error)));
      g_assert_error (error, GAZE_CLIENT_ERROR, c->code);
    }
}

/* Where the filter's verdict is: on the finish event, on an annotation
 * after it, or on the held-back chunk before it.
 */
static void
test_reader_filtered (void)
{
  static const char * const streams[][4] = {
    {
      "{\"choices\":[{\"delta\":{\"content\":\"Hi\"},\"index\":0}]}",
      "{\"choices\":[{\"index\":0,\"finish_reason\":\"content_filter\",\"content_filter_results\":"
      "{\"violence\":{\"filtered\":true,\"severity\":\"medium\"}}}]}",
      NULL,
    },
    {
      "{\"choices\":[{\"delta\":{\"content\":\"Hi\"},\"index\":0}]}",
      "{\"choices\":[{\"delta\":{},\"index\":0,\"finish_reason\":\"content_filter\"}]}",
      "{\"choices\":[{\"index\":0,\"finish_reason\":null,\"content_filter_results\":"
      "{\"violence\":{\"filtered\":true,\"severity\":\"medium\"}}}]}",
      NULL,
    },
    {
      "{\"choices\":[{\"delta\":{\"content\":\"Hi\"},\"index\":0,\"content_filter_results\":"
      "{\"violence\":{\"filtered\":true,\"severity\":\"medium\"}}}]}",
      "{\"choices\":[{\"delta\":{},\"index\":0,\"finish_reason\":\"stop\"}]}",
      "{\"choices\":[{\"index\":0,\"finish_reason\":\"content_filter\"}]}",
      NULL,
    },
  };

  for (guint i = 0; i < G_N_ELEMENTS (streams); i++)
    {
      g_autoptr(GazeStream) stream = gaze_stream_new ();
      g_autoptr(GazeReply) reply = NULL;
      g_autoptr(GError) error = NULL;

      for (guint j = 0; streams[i][j] != NULL; j++)
        g_assert_true (gaze_stream_read_chunk (stream,
                                               streams[i][j],
                                               strlen (streams[i][j]),
                                               &error));

      reply = gaze_stream_finish (stream, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (reply->content, ==, "Hi");
      g_assert_cmpstr (reply->finish_reason, ==, "content_filter");
      g_assert_cmpstr (reply->filtered, ==, "violence (medium)");
      /* It said why it ended, so it was not cut off. */
      g_assert_false (reply->truncated);
    }
}

/* gpt-4 vision-preview said finish_details instead of finish_reason. */
static void
test_reader_finish_details (void)
{
  static const struct {
    const char *chunk;
    const char *reason;
  } cases[] = {
    { "{\"choices\":[{\"delta\":{},\"index\":0,"
      "\"finish_details\":{\"type\":\"stop\",\"stop\":\"<|fim_suffix|>\"}}]}", "stop" },
    { "{\"choices\":[{\"delta\":{},\"index\":0,\"finish_details\":{\"type\":\"max_tokens\"}}]}",
      "length" },
    { "{\"choices\":[{\"delta\":{},\"index\":0,\"finish_details\":{\"type\":3}}]}", NULL },
    { "{\"choices\":[{\"delta\":{},\"index\":0,\"finish_details\":\"stop\"}]}", NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GazeStream) stream = gaze_stream_new ();
      g_autoptr(GazeReply) reply = NULL;
      g_autoptr(GError) error = NULL;
      g_autofree char *input = g_strdup_printf ("data: {\"choices\":[{\"delta\":"
                                                "{\"content\":\"A cat.\"}}]}\n\n"
                                                "data: %s\n\n",
                                                cases[i].chunk);

      g_assert_true (gaze_stream_feed (stream, input, strlen (input), &error));
      g_assert_cmpint (gaze_stream_has_finish_reason (stream), ==, cases[i].reason != NULL);
      reply = gaze_stream_finish (stream, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (reply->finish_reason, ==, cases[i].reason);
      g_assert_cmpint (reply->truncated, ==, cases[i].reason == NULL);
    }
}

/* Cut off: with neither a finish reason nor [DONE], the reply says so;
 * with nothing readable at all, there is no reply.
 */
static void
test_reader_ends (void)
{
  static const struct {
    const char *input;
    gboolean    truncated;
    gboolean    fails;
  } cases[] = {
    { "data: {\"choices\":[{\"delta\":{\"content\":\"A\"}}]}\n\n", TRUE, FALSE },
    { "data: {\"choices\":[{\"delta\":{\"content\":\"A\"}}]}\n\n"
      "data: {\"choices\":[{\"delta\":{\"content\":\"B", TRUE, FALSE },
    { "data: {\"choices\":[{\"delta\":{\"content\":\"A\"}}]}\n\ndata: [DONE]", FALSE, FALSE },
    { "data: {\"choices\":[{\"delta\":{\"content\":\"A\"},\"finish_reason\":\"stop\"}]}\n\n",
      FALSE, FALSE },
    { "", FALSE, TRUE },
    { "<html><body>Gateway</body></html>", FALSE, TRUE },
    { ": nothing but a comment\n\n", FALSE, TRUE },
    { "data: [DONE]\n\n", FALSE, FALSE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GazeStream) stream = gaze_stream_new ();
      g_autoptr(GazeReply) reply = NULL;
      g_autoptr(GError) error = NULL;

      g_assert_true (gaze_stream_feed (stream, cases[i].input, strlen (cases[i].input), &error));
      reply = gaze_stream_finish (stream, &error);

      if (cases[i].fails)
        {
          g_assert_error (error, GAZE_CLIENT_ERROR, GAZE_CLIENT_ERROR_UNREADABLE_REPLY);
          g_assert_null (reply);
          continue;
        }

      g_assert_no_error (error);
      g_assert_cmpint (reply->truncated, ==, cases[i].truncated);
    }
}

/* The text is handed out once, in the order it came. */
static void
test_reader_new_text (void)
{
  g_autoptr(GazeStream) stream = gaze_stream_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;
  const char *input = "data: {\"choices\":[{\"delta\":{\"content\":\"日本\"}}]}\n\n"
                      "data: {\"choices\":[{\"delta\":{\"content\":\" 🚲\"}}]}\n\n";
  gsize cut = strlen ("data: {\"choices\":[{\"delta\":{\"content\":\"日本\"}}]}\n\n"
                      "data: {\"choices\":[{\"delta\":{\"content\":\" \xF0");

  g_assert_null (gaze_stream_take_new_text (stream));
  g_assert_true (gaze_stream_feed (stream, input, cut, &error));
  first = gaze_stream_take_new_text (stream);
  g_assert_cmpstr (first, ==, "日本");
  g_assert_null (gaze_stream_take_new_text (stream));
  g_assert_true (gaze_stream_feed (stream, input + cut, strlen (input) - cut, &error));
  second = gaze_stream_take_new_text (stream);
  g_assert_cmpstr (second, ==, " 🚲");
  g_assert_cmpstr (gaze_stream_get_text (stream), ==, "日本 🚲");
}

/* The client against the loopback server */

static void
test_stream_normal (GazeTestFixture *fixture,
                    gconstpointer    data)
{
  const char *question = "What is in this picture? Qu’est-ce ? 日本 🚲";
  g_autoptr(GazeRequest) request = gaze_test_request_new (question, NULL);
  g_autofree char *whole = dup_whole_answer (fixture, question);
  JsonObject *body;
  JsonObject *options;
  GazeTestResult r;

  gaze_test_fixture_stream (fixture, request, &r);
  g_assert_no_error (r.error);

  /* What the server received. */
  g_assert_true (gaze_request_get_stream (request));
  g_assert_true (gaze_test_server_get_last_stream (fixture->server));
  g_assert_true (gaze_test_server_get_last_key_ok (fixture->server));
  g_assert_cmpstr (gaze_test_server_get_last_header (fixture->server, "Accept"),
                   ==,
                   "text/event-stream");
  body = get_last_body_object (fixture);
  options = json_object_get_object_member (body, "stream_options");
  g_assert_nonnull (options);
  g_assert_true (json_object_get_boolean_member (options, "include_usage"));

  /* The same text as without streaming, in several pieces. */
  g_assert_cmpstr (r.reply->content, ==, whole);
  g_assert_cmpstr (r.text->str, ==, whole);
  g_assert_cmpuint (r.deltas->len, >, 1);
  g_assert_cmpstr (r.reply->finish_reason, ==, "stop");
  g_assert_false (r.reply->truncated);
  g_assert_null (r.reply->filtered);
  g_assert_nonnull (r.reply->request_id);
  g_assert_cmpint (r.reply->prompt_tokens, >, 0);
  /* The server counts a token a word. */
  {
    g_auto(GStrv) words = g_strsplit (whole, " ", -1);

    g_assert_cmpint (r.reply->completion_tokens, ==, g_strv_length (words));
  }
  g_assert_cmpint (r.reply->total_tokens, ==, r.reply->prompt_tokens + r.reply->completion_tokens);
  gaze_test_result_clear (&r);
}

/* Before 2024-10-21 the service refuses stream_options; the answer then
 * comes without usage.
 */
static void
test_stream_older_version (GazeTestFixture *fixture,
                           gconstpointer    data)
{
  g_autofree char *url = gaze_test_server_dup_endpoint (fixture->server);
  g_autoptr(GazeEndpoint) endpoint = gaze_endpoint_resolve (url,
                                                            GAZE_TEST_SERVER_DEPLOYMENT,
                                                            "2024-06-01",
                                                            NULL);
  g_autoptr(GazeRequest) request = gaze_request_new ("2024-06-01");
  GazeTestResult r;

  gaze_request_add_user_message (request, "Hello", NULL);
  gaze_test_result_start (&r, fixture->client, endpoint, NULL, request, TRUE, NULL);
  gaze_test_result_wait (&r);
  g_assert_no_error (r.error);
  g_assert_cmpstr (gaze_test_server_get_last_api_version (fixture->server), ==, "2024-06-01");
  g_assert_false (json_object_has_member (get_last_body_object (fixture), "stream_options"));
  g_assert_cmpstr (r.reply->finish_reason, ==, "stop");
  g_assert_cmpint (r.reply->total_tokens, ==, -1);
  gaze_test_result_clear (&r);
}

typedef struct
{
  const char *file;
  const char *text;
  const char *finish_reason;
  const char *filtered;
  gint64      total_tokens;
} Transcript;

static const Transcript transcripts[] = {
  { "sse-azure-stream.txt",
    "The image shows a red bicycle leaning against a brick wall.", "stop", NULL, -1 },
  { "sse-azure-stream-include-usage.txt",
    "The image shows a red bicycle leaning against a brick wall.", "stop", NULL, 805 },
  { "sse-azure-stream-async-filter.txt", "Color is a visual perception.", "stop", NULL, -1 },
  { "sse-azure-stream-content-filtered.txt",
    "Hey Jude, don't make it bad... better", "content_filter",
    "protected text, such as song lyrics or articles", -1 },
};

static void
test_stream_transcripts (GazeTestFixture *fixture,
                         gconstpointer    data)
{
  for (guint i = 0; i < G_N_ELEMENTS (transcripts); i++)
    {
      const Transcript *t = &transcripts[i];
      g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "streams", t->file, NULL);
      g_autoptr(GazeRequest) request = gaze_test_request_new ("What is in this picture?", NULL);
      GazeTestResult r;

      g_test_message ("%s", t->file);
      gaze_test_server_queue_reply_file (fixture->server, 200, path, NULL);
      gaze_test_fixture_stream (fixture, request, &r);
      g_assert_no_error (r.error);
      g_assert_cmpstr (r.reply->content, ==, t->text);
      g_assert_cmpstr (r.reply->finish_reason, ==, t->finish_reason);
      g_assert_cmpstr (r.reply->filtered, ==, t->filtered);
      g_assert_false (r.reply->truncated);
      g_assert_cmpint (r.reply->total_tokens, ==, t->total_tokens);
      g_assert_cmpuint (r.deltas->len, >, 1);
      gaze_test_result_clear (&r);
    }
}

/* The body ends cleanly, but before the service said the answer was
 * complete: the reply holds what came, marked as cut off.
 */
static void
test_stream_cut_without_done (GazeTestFixture *fixture,
                              gconstpointer    data)
{
  g_autoptr(GazeRequest) request = gaze_test_request_new ("Hello", NULL);
  g_autoptr(GString) stream = begin_stream ();
  GazeTestResult r;

  add_content (stream, "The");
  add_content (stream, " image");
  queue_stream (fixture, stream);

  gaze_test_fixture_stream (fixture, request, &r);
  g_assert_no_error (r.error);
  g_assert_cmpstr (r.reply->content, ==, "The image");
  g_assert_null (r.reply->finish_reason);
  g_assert_true (r.reply->truncated);
  gaze_test_result_clear (&r);
}

/* The connection breaks halfway through the body. */
static void
test_stream_cut_connection (GazeTestFixture *fixture,
                            gconstpointer    data)
{
  const char *question = "What is in this long and winding picture, from left to right?";
  g_autoptr(GazeRequest) request = gaze_test_request_new (question, NULL);
  g_autofree char *whole = dup_whole_answer (fixture, question);
  GazeTestResult r;

  gaze_test_server_queue_truncated (fixture->server);
  gaze_test_fixture_stream (fixture, request, &r);
  g_assert_no_error (r.error);
  g_assert_true (r.reply->truncated);
  g_assert_null (r.reply->finish_reason);
  g_assert_cmpstr (r.reply->content, !=, "");
  g_assert_cmpstr (r.reply->content, !=, whole);
  g_assert_true (g_str_has_prefix (whole, r.reply->content));
  gaze_test_result_clear (&r);
}

/* The answer is complete even if [DONE] never comes. */
static void
test_stream_finish_without_done (GazeTestFixture *fixture,
                                 gconstpointer    data)
{
  g_autoptr(GazeRequest) request = gaze_test_request_new ("Hello", NULL);
  g_autoptr(GString) stream = begin_stream ();
  GazeTestResult r;

  add_content (stream, "Hi.");
  add_finish (stream, "stop");
  queue_stream (fixture, stream);

  gaze_test_fixture_stream (fixture, request, &r);
  g_assert_no_error (r.error);
  g_assert_cmpstr (r.reply->content, ==, "Hi.");
  g_assert_cmpstr (r.reply->finish_reason, ==, "stop");
  g_assert_false (r.reply->truncated);
  gaze_test_result_clear (&r);
}

/* Default filtering holds back a chunk and names the category on it. */
static void
test_stream_content_filter (GazeTestFixture *fixture,
                            gconstpointer    data)
{
  g_autoptr(GazeRequest) request = gaze_test_request_new ("Hello", NULL);
  g_autoptr(GString) stream = begin_stream ();
  GazeTestResult r;

  add_content (stream, "Once upon");
  add_event (stream, "{\"choices\":[{\"content_filter_results\":"
                     "{\"hate\":{\"filtered\":false,\"severity\":\"safe\"},"
                     "\"violence\":{\"filtered\":true,\"severity\":\"high\"}},\"delta\":{},"
                     "\"finish_reason\":\"content_filter\",\"index\":0}],"
                     "\"created\":1,\"id\":\"chatcmpl-x\","
                     "\"model\":\"gpt-4o\",\"object\":\"chat.completion.chunk\"}");
  g_string_append (stream, "data: [DONE]\n\n");
  queue_stream (fixture, stream);

  gaze_test_fixture_stream (fixture, request, &r);
  g_assert_no_error (r.error);
  g_assert_cmpstr (r.reply->content, ==, "Once upon");
  g_assert_cmpstr (r.reply->finish_reason, ==, "content_filter");
  g_assert_cmpstr (r.reply->filtered, ==, "violence (high)");
  g_assert_false (r.reply->truncated);
  gaze_test_result_clear (&r);
}

/* Past max_tokens the server ends with "length", as the service does. */
static void
test_stream_length (GazeTestFixture *fixture,
                    gconstpointer    data)
{
  g_autoptr(GazeRequest) request = gaze_test_request_new ("Hello there", NULL);
  GazeTestResult r;

  gaze_request_set_max_tokens (request, 3);
  gaze_test_fixture_stream (fixture, request, &r);
  g_assert_no_error (r.error);
  g_assert_cmpint (gaze_test_server_get_last_max_tokens (fixture->server), ==, 3);
  g_assert_cmpstr (r.reply->content, ==, "I see no");
  g_assert_cmpstr (r.reply->finish_reason, ==, "length");
  g_assert_false (r.reply->truncated);
  gaze_test_result_clear (&r);
}

typedef struct
{
  const char *name;
  const char *event;
  int         code;
  const char *words;
  gint64      retry_after_ms;
} ErrorEvent;

static const ErrorEvent error_events[] = {
  { "server-error",
    "{\"error\":{\"message\":\"The server had an error while processing your request. "
    "Sorry about that!\","
    "\"type\":\"server_error\",\"param\":null,\"code\":null}}",
    GAZE_CLIENT_ERROR_SERVER_ERROR, "Sorry about that", -1 },
  { "no-message", "{\"error\":{}}", GAZE_CLIENT_ERROR_SERVER_ERROR, "error on its side", -1 },
  { "control-characters", "{\"error\":{\"message\":\"Bad\\u0007\\nthing\\r\"}}",
    GAZE_CLIENT_ERROR_SERVER_ERROR, "“Bad  thing”", -1 },
  { "content-filter",
    "{\"error\":{\"code\":\"content_filter\",\"message\":\"Filtered\","
    "\"innererror\":{\"code\":\"ResponsibleAIPolicyViolation\","
    "\"content_filter_result\":{\"sexual\":{\"filtered\":true,\"severity\":\"medium\"}}}}}",
    GAZE_CLIENT_ERROR_CONTENT_FILTERED, "sexual content (medium)", -1 },
  { "rate-limit",
    "{\"error\":{\"code\":\"429\","
    "\"message\":\"Requests to the ChatCompletions_Create Operation have exceeded "
    "call rate limit. Please retry after 7 seconds.\"}}",
    GAZE_CLIENT_ERROR_RATE_LIMITED, "7 seconds", 7000 },
};

/* An error in the middle of the stream fails the request; the text before
 * it has reached the caller already.
 */
static void
test_stream_error_event (GazeTestFixture *fixture,
                         gconstpointer    data)
{
  for (guint i = 0; i < G_N_ELEMENTS (error_events); i++)
    {
      const ErrorEvent *e = &error_events[i];
      g_autoptr(GazeRequest) request = gaze_test_request_new ("Hello", NULL);
      g_autoptr(GString) stream = begin_stream ();
      GazeTestResult r;

      g_test_message ("%s", e->name);
      add_content (stream, "The");
      add_content (stream, " image");
      add_event (stream, e->event);
      add_content (stream, " never");
      g_string_append (stream, "data: [DONE]\n\n");
      queue_stream (fixture, stream);

      gaze_test_fixture_stream (fixture, request, &r);
      g_assert_error (r.error, GAZE_CLIENT_ERROR, e->code);
      if (strstr (r.error->message, e->words) == NULL)
        g_error ("%s: “%s” does not say “%s”", e->name, r.error->message, e->words);
      g_assert_cmpint (gaze_client_error_get_retry_after_ms (r.error), ==, e->retry_after_ms);
      if (e->retry_after_ms < 0)
        g_assert_nonnull (gaze_client_error_get_request_id (r.error));
      g_assert_cmpstr (r.text->str, ==, "The image");
      gaze_test_result_clear (&r);
    }
}

/* A failed status is read whole and told the way the whole-answer
 * request tells it.
 */
static void
test_stream_http_errors (GazeTestFixture *fixture,
                         gconstpointer    data)
{
  g_autoptr(GazeRequest) request = gaze_test_request_new ("Hello", NULL);
  const char * const retry[] = { "Retry-After: 7", NULL };
  GazeTestResult r;

  gaze_test_result_start (&r, fixture->client, fixture->endpoint, "not-the-key", request, TRUE,
                          NULL);
  gaze_test_result_wait (&r);
  g_assert_error (r.error, GAZE_CLIENT_ERROR, GAZE_CLIENT_ERROR_UNAUTHORIZED);
  g_assert_true (gaze_test_server_get_last_stream (fixture->server));
  g_assert_false (gaze_test_server_get_last_key_ok (fixture->server));
  g_assert_cmpuint (r.deltas->len, ==, 0);
  g_assert_nonnull (gaze_client_error_get_request_id (r.error));
  gaze_test_result_clear (&r);

  gaze_test_server_queue_reply (fixture->server, 429, NULL,
                                "{\"error\":{\"code\":\"429\",\"message\":\"Slow down.\"}}", retry);
  gaze_test_fixture_stream (fixture, request, &r);
  g_assert_error (r.error, GAZE_CLIENT_ERROR, GAZE_CLIENT_ERROR_RATE_LIMITED);
  g_assert_cmpint (gaze_client_error_get_retry_after_ms (r.error), ==, 7000);
  gaze_test_result_clear (&r);

  gaze_test_server_queue_reply (fixture->server, 503, "text/event-stream", "data: {}\n\n", NULL);
  gaze_test_fixture_stream (fixture, request, &r);
  g_assert_error (r.error, GAZE_CLIENT_ERROR, GAZE_CLIENT_ERROR_SERVER_ERROR);
  gaze_test_result_clear (&r);

  /* A huge error body is cut, not read to its end. */
  {
    g_autoptr(GString) huge = g_string_new ("{\"error\":{\"message\":\"");

    for (guint i = 0; i < 200 * 1024; i++)
      g_string_append_c (huge, 'x');
    g_string_append (huge, "\"}}");
    gaze_test_server_queue_reply (fixture->server, 400, NULL, huge->str, NULL);
  }
  gaze_test_fixture_stream (fixture, request, &r);
  g_assert_error (r.error, GAZE_CLIENT_ERROR, GAZE_CLIENT_ERROR_BAD_REQUEST);
  gaze_test_result_clear (&r);
}

/* A gateway that ignores "stream" answers with one JSON body. */
static void
test_stream_json_answer (GazeTestFixture *fixture,
                         gconstpointer    data)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "replies",
                                                 "synthetic-2024-10-21-vision-response.json", NULL);
  g_autoptr(GazeRequest) request = gaze_test_request_new ("Hello", NULL);
  g_autoptr(GazeReply) expected = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  gsize length = 0;
  GazeTestResult r;

  g_file_get_contents (path, &contents, &length, &error);
  g_assert_no_error (error);
  bytes = g_bytes_new (contents, length);
  expected = gaze_reply_parse (bytes, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (expected->content, !=, "");

  gaze_test_server_queue_reply_file (fixture->server, 200, path, NULL);
  gaze_test_fixture_stream (fixture, request, &r);
  g_assert_no_error (r.error);
  g_assert_cmpuint (r.deltas->len, ==, 1);
  g_assert_cmpstr (r.reply->content, ==, expected->content);
  g_assert_cmpstr (r.reply->finish_reason, ==, expected->finish_reason);
  g_assert_cmpint (r.reply->total_tokens, ==, expected->total_tokens);
  g_assert_nonnull (r.reply->request_id);
  gaze_test_result_clear (&r);

  gaze_test_server_queue_reply (fixture->server, 200, "application/json", "{\"choices\":[]}", NULL);
  gaze_test_fixture_stream (fixture, request, &r);
  g_assert_error (r.error, GAZE_CLIENT_ERROR, GAZE_CLIENT_ERROR_UNREADABLE_REPLY);
  g_assert_cmpuint (r.deltas->len, ==, 0);
  gaze_test_result_clear (&r);
}

static void
test_stream_unreadable (GazeTestFixture *fixture,
                        gconstpointer    data)
{
  static const struct {
    const char *content_type;
    const char *body;
  } cases[] = {
    { "text/event-stream", "data: {not json\n\n" },
    { "text/event-stream", "" },
    { "text/html", "<html><body>Sign in to the Wi-Fi</body></html>" },
  };
  g_autoptr(GazeRequest) request = gaze_test_request_new ("Hello", NULL);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      GazeTestResult r;

      gaze_test_server_queue_reply (fixture->server,
                                    200,
                                    cases[i].content_type,
                                    cases[i].body,
                                    NULL);
      gaze_test_fixture_stream (fixture, request, &r);
      g_assert_error (r.error, GAZE_CLIENT_ERROR, GAZE_CLIENT_ERROR_UNREADABLE_REPLY);
      gaze_test_result_clear (&r);
    }
}

/* Stop in the middle: the request ends at once, with no piece after. */
static void
test_stream_cancel (GazeTestFixture *fixture,
                    gconstpointer    data)
{
  g_autoptr(GazeRequest) request = gaze_test_request_new ("What is in this picture?", NULL);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GTimer) timer = g_timer_new ();
  g_autoptr(GString) first = begin_stream ();
  g_autoptr(GString) stream = g_string_new (NULL);
  GazeTestResult r;

  /* The server sends a queued stream one "\n\n" at a time: CRLF keeps
   * the first word in the first piece; the rest comes after a pause the
   * test does not wait for.
   */
  add_content (first, "The");
  g_string_replace (first, "\n", "\r\n", 0);
  g_string_append (stream, first->str);
  g_string_append (stream, "\n\n");
  add_content (stream, " image");
  add_finish (stream, "stop");
  queue_stream (fixture, stream);
  gaze_test_server_set_chunk_interval (fixture->server, 5000);

  gaze_test_result_start (&r, fixture->client, fixture->endpoint, NULL, request, TRUE, cancellable);
  r.cancel_on_first_delta = cancellable;
  gaze_test_result_wait (&r);
  g_assert_error (r.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (r.deltas->len, ==, 1);
  g_assert_cmpfloat (g_timer_elapsed (timer, NULL), <, 2.0);
  gaze_test_result_clear (&r);
}

/* Stop while the server still thinks, and while it pauses mid-stream. */
static void
test_stream_cancel_waiting (GazeTestFixture *fixture,
                            gconstpointer    data)
{
  g_autoptr(GazeRequest) request = gaze_test_request_new ("Hello", NULL);
  GazeTestResult r;

  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(GCancellable) cancellable = g_cancellable_new ();
      g_autoptr(GTimer) timer = g_timer_new ();

      gaze_test_server_set_delay (fixture->server, i == 0 ? 5000 : 0);
      gaze_test_server_set_chunk_interval (fixture->server, i == 0 ? 10 : 5000);
      gaze_test_cancel_later (cancellable, 100);

      gaze_test_result_start (&r, fixture->client, fixture->endpoint, NULL, request, TRUE,
                              cancellable);
      gaze_test_result_wait (&r);
      g_assert_error (r.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_assert_cmpfloat (g_timer_elapsed (timer, NULL), <, 2.0);
      gaze_test_result_clear (&r);
    }

  /* Cancelled before it starts. */
  {
    g_autoptr(GCancellable) cancellable = g_cancellable_new ();

    g_cancellable_cancel (cancellable);
    gaze_test_result_start (&r, fixture->client, fixture->endpoint, NULL, request, TRUE,
                            cancellable);
    gaze_test_result_wait (&r);
    g_assert_error (r.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    gaze_test_result_clear (&r);
  }

  gaze_test_server_set_delay (fixture->server, 0);
  gaze_test_server_set_chunk_interval (fixture->server, 10);
}

/* A stream that stops sending fails after the idle timeout, not before:
 * a slow stream that keeps sending is fine, and so is a long wait for
 * the first byte.
 */
static void
test_stream_idle_timeout (GazeTestFixture *fixture,
                          gconstpointer    data)
{
  g_autoptr(GazeRequest) request = gaze_test_request_new ("Hi", NULL);
  g_autoptr(GTimer) timer = g_timer_new ();
  GazeTestResult r;

  g_assert_cmpuint (gaze_client_get_stream_idle_timeout (fixture->client), ==, 60000);
  gaze_client_set_stream_idle_timeout (fixture->client, 300);
  g_assert_cmpuint (gaze_client_get_stream_idle_timeout (fixture->client), ==, 300);

  /* Stalled after the first piece. */
  gaze_test_server_set_chunk_interval (fixture->server, 10000);
  gaze_test_fixture_stream (fixture, request, &r);
  g_assert_error (r.error, GAZE_CLIENT_ERROR, GAZE_CLIENT_ERROR_TIMEOUT);
  g_assert_nonnull (strstr (r.error->message, "stopped waiting"));
  g_assert_cmpfloat (g_timer_elapsed (timer, NULL), >=, 0.3);
  g_assert_cmpfloat (g_timer_elapsed (timer, NULL), <, 3.0);
  gaze_test_result_clear (&r);

  /* Slow but steady: every pause is shorter than the timeout. */
  gaze_test_server_set_chunk_interval (fixture->server, 120);
  gaze_test_fixture_stream (fixture, request, &r);
  g_assert_no_error (r.error);
  g_assert_false (r.reply->truncated);
  gaze_test_result_clear (&r);

  /* A long think before the answer starts. */
  gaze_test_server_set_chunk_interval (fixture->server, 10);
  gaze_test_server_set_delay (fixture->server, 600);
  gaze_test_fixture_stream (fixture, request, &r);
  g_assert_no_error (r.error);
  g_assert_cmpstr (r.reply->finish_reason, ==, "stop");
  gaze_test_result_clear (&r);
  gaze_test_server_set_delay (fixture->server, 0);
}

/* Ten thousand one-character pieces, sent as fast as they go. */
static void
test_stream_many_deltas (GazeTestFixture *fixture,
                         gconstpointer    data)
{
  g_autoptr(GazeRequest) request = gaze_test_request_new ("Count", NULL);
  g_autoptr(GString) stream = begin_stream ();
  g_autoptr(GString) expected = g_string_new (NULL);
  g_autoptr(GTimer) timer = g_timer_new ();
  GazeTestResult r;

  for (guint i = 0; i < 10000; i++)
    {
      char piece[2] = { "0123456789"[i % 10], '\0' };

      add_content (stream, piece);
      g_string_append (expected, piece);
    }
  add_finish (stream, "stop");
  g_string_append (stream, "data: [DONE]\n\n");

  gaze_test_server_set_chunk_interval (fixture->server, 0);
  queue_stream (fixture, stream);
  gaze_test_fixture_stream (fixture, request, &r);
  g_assert_no_error (r.error);
  g_assert_cmpstr (r.reply->content, ==, expected->str);
  g_assert_cmpstr (r.reply->finish_reason, ==, "stop");
  g_assert_false (r.reply->truncated);
  g_test_message ("10 000 events in %.2f s, %u pieces",
                  g_timer_elapsed (timer, NULL),
                  r.deltas->len);
  gaze_test_result_clear (&r);
}

/* One event of 100 KB spans many reads, and comes out whole. */
static void
test_stream_big_delta (GazeTestFixture *fixture,
                       gconstpointer    data)
{
  g_autoptr(GazeRequest) request = gaze_test_request_new ("Write a lot", NULL);
  g_autoptr(GString) stream = begin_stream ();
  g_autoptr(GString) big = g_string_new (NULL);
  GazeTestResult r;

  while (big->len < 100 * 1024)
    g_string_append (big, "A line of text, “quoted”, with é and 🚲 and a \"quote\".\n");

  add_content (stream, big->str);
  add_finish (stream, "stop");
  g_string_append (stream, "data: [DONE]\n\n");
  queue_stream (fixture, stream);

  gaze_test_fixture_stream (fixture, request, &r);
  g_assert_no_error (r.error);
  g_assert_cmpuint (r.deltas->len, ==, 1);
  g_assert_cmpstr (r.reply->content, ==, big->str);
  gaze_test_result_clear (&r);
}

/* A request may stream without anyone reading the pieces. */
static void
test_stream_no_delta_func (GazeTestFixture *fixture,
                           gconstpointer    data)
{
  g_autoptr(GazeRequest) request = gaze_test_request_new ("Hello", NULL);
  GazeTestResult r = { 0 };

  gaze_client_stream_async (fixture->client, fixture->endpoint, GAZE_TEST_SERVER_KEY, request,
                            NULL, NULL, NULL, NULL, gaze_test_result_finish_cb, &r);
  gaze_test_result_wait (&r);
  g_assert_no_error (r.error);
  g_assert_true (g_str_has_prefix (r.reply->content, "I see no image"));
  gaze_test_result_clear (&r);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/stream/reader/quirks", test_reader_quirks);
  g_test_add_func ("/stream/reader/bad-chunks", test_reader_bad_chunks);
  g_test_add_func ("/stream/reader/filtered", test_reader_filtered);
  g_test_add_func ("/stream/reader/finish-details", test_reader_finish_details);
  g_test_add_func ("/stream/reader/ends", test_reader_ends);
  g_test_add_func ("/stream/reader/new-text", test_reader_new_text);

#define ADD(name, func) g_test_add ("/stream/client/" name, GazeTestFixture, NULL, \
                                 gaze_test_fixture_set_up, func, gaze_test_fixture_tear_down)
  ADD ("normal", test_stream_normal);
  ADD ("older-version", test_stream_older_version);
  ADD ("transcripts", test_stream_transcripts);
  ADD ("cut-without-done", test_stream_cut_without_done);
  ADD ("cut-connection", test_stream_cut_connection);
  ADD ("finish-without-done", test_stream_finish_without_done);
  ADD ("content-filter", test_stream_content_filter);
  ADD ("length", test_stream_length);
  ADD ("error-event", test_stream_error_event);
  ADD ("http-errors", test_stream_http_errors);
  ADD ("json-answer", test_stream_json_answer);
  ADD ("unreadable", test_stream_unreadable);
  ADD ("cancel", test_stream_cancel);
  ADD ("cancel-waiting", test_stream_cancel_waiting);
  ADD ("idle-timeout", test_stream_idle_timeout);
  ADD ("many-deltas", test_stream_many_deltas);
  ADD ("big-delta", test_stream_big_delta);
  ADD ("no-delta-func", test_stream_no_delta_func);
#undef ADD

  return g_test_run ();
}
