/* test-client.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The client against a real loopback server that behaves like Azure
 * OpenAI: each test checks what the server received as well as what the
 * client made of the answer.
 */

#include "config.h"

#include <string.h>
#include <gdk-pixbuf/gdk-pixbuf.h>

#include <libsoup/soup.h>

#include "gaze-client.h"
#include "gaze-client-private.h"
#include "gaze-conversation.h"
#include "gaze-test-fixture.h"

static GazeImage *
make_image (int        width,
            int        height,
            GazeDetail detail)
{
  g_autoptr(GdkPixbuf) pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, width, height);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  GazeImage *image;
  char *data;
  gsize size;

  gdk_pixbuf_fill (pixbuf, 0x3366ccff);
  g_assert_true (gdk_pixbuf_save_to_buffer (pixbuf, &data, &size, "jpeg", &error, NULL));
  bytes = g_bytes_new_take (data, size);

  image = gaze_image_prepare_bytes (bytes, "photo.jpg", detail, NULL, &error);
  g_assert_no_error (error);

  return image;
}

/* Noise, which JPEG cannot make small, as large as high detail keeps it:
 * well over a megabyte of base64.
 */
#define NOISE_WIDTH  2000
#define NOISE_HEIGHT 768

static GazeImage *
make_noise_image (void)
{
  g_autoptr(GdkPixbuf) pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8,
                                                NOISE_WIDTH, NOISE_HEIGHT);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  guint8 *pixels = gdk_pixbuf_get_pixels (pixbuf);
  int rowstride = gdk_pixbuf_get_rowstride (pixbuf);
  guint32 state = 0x9e3779b9;
  GazeImage *image;
  char *data;
  gsize size;

  for (int y = 0; y < NOISE_HEIGHT; y++)
    {
      for (int x = 0; x < NOISE_WIDTH * 3; x++)
        {
          state ^= state << 13;
          state ^= state >> 17;
          state ^= state << 5;
          pixels[y * rowstride + x] = state & 0xff;
        }
    }

  g_assert_true (gdk_pixbuf_save_to_buffer (pixbuf, &data, &size, "jpeg", &error,
                                            "quality", "95", NULL));
  bytes = g_bytes_new_take (data, size);

  image = gaze_image_prepare_bytes (bytes, "noise.jpg", GAZE_DETAIL_HIGH, NULL, &error);
  g_assert_no_error (error);

  return image;
}

/* A second turn after ten photos of noise, the most a request takes: a
 * body of about 14 MB.
 */
static GazeRequest *
make_large_request (GazeImage *image)
{
  GazeRequest *request = gaze_request_new (GAZE_DEFAULT_API_VERSION);
  g_autoptr(GPtrArray) images = g_ptr_array_new ();

  for (guint i = 0; i < GAZE_MAX_IMAGES_PER_REQUEST; i++)
    g_ptr_array_add (images, image);

  gaze_request_set_system_prompt (request, "Describe the photos.");
  gaze_request_add_user_message (request, "What is on these?", images);
  gaze_request_add_assistant_message (request, "Noise, “grey” from afar.");
  gaze_request_add_user_message (request, "And now?", NULL);

  return request;
}

static void
test_client_success (GazeTestFixture *fixture,
                     gconstpointer    data)
{
  g_autoptr(GazeImage) image = make_image (6000, 4000, GAZE_DETAIL_HIGH);
  g_autoptr(GazeRequest) request = gaze_test_request_new ("What is in this picture?", image);
  g_autofree char *text = NULL;
  GazeTestResult r;
  int width, height;

  gaze_request_set_max_tokens (request, 321);
  gaze_test_fixture_complete (fixture, request, &r);
  g_assert_no_error (r.error);

  /* What the server received. */
  g_assert_cmpuint (gaze_test_server_get_n_requests (fixture->server), ==, 1);
  g_assert_cmpstr (gaze_test_server_get_last_path (fixture->server), ==,
                   "/openai/deployments/gpt4v/chat/completions");
  g_assert_cmpstr (gaze_test_server_get_last_api_version (fixture->server), ==, "2024-10-21");
  g_assert_true (g_str_has_prefix (gaze_test_server_get_last_content_type (fixture->server),
                                   "application/json"));
  g_assert_true (gaze_test_server_get_last_key_ok (fixture->server));
  g_assert_false (gaze_test_server_get_last_had_authorization (fixture->server));
  g_assert_cmpuint (gaze_test_server_get_last_n_images (fixture->server), ==, 1);
  gaze_test_server_get_last_image_size (fixture->server, 0, &width, &height);
  g_assert_cmpint (width, ==, 1152);
  g_assert_cmpint (height, ==, 768);
  g_assert_cmpstr (gaze_test_server_get_last_image_detail (fixture->server, 0), ==, "high");
  g_assert_cmpstr (gaze_test_server_get_last_image_mime (fixture->server, 0), ==, "image/jpeg");
  text = gaze_test_server_dup_last_user_text (fixture->server);
  g_assert_cmpstr (text, ==, "What is in this picture?");
  g_assert_cmpint (gaze_test_server_get_last_max_tokens (fixture->server), ==, 321);
  g_assert_false (gaze_test_server_get_last_stream (fixture->server));

  /* What the client made of the answer. */
  g_assert_nonnull (r.reply);
  g_assert_nonnull (strstr (r.reply->content, "1152 × 768"));
  g_assert_nonnull (strstr (r.reply->content, "What is in this picture?"));
  g_assert_cmpstr (r.reply->finish_reason, ==, "stop");
  g_assert_nonnull (r.reply->request_id);
  g_assert_cmpint (r.reply->total_tokens, >, 0);
  gaze_test_result_clear (&r);
}

static void
test_client_legacy (GazeTestFixture *fixture,
                    gconstpointer    data)
{
  g_autoptr(GazeImage) image = make_image (800, 600, GAZE_DETAIL_LOW);
  g_autoptr(GazeRequest) request = gaze_request_new ("2023-08-01-preview");
  g_autoptr(GPtrArray) images = g_ptr_array_new ();
  g_autoptr(GazeEndpoint) endpoint = gaze_endpoint_copy (fixture->endpoint);
  JsonNode *body;
  JsonArray *messages;
  JsonArray *content;
  GazeTestResult r;
  int width, height;

  g_ptr_array_add (images, image);
  gaze_request_add_user_message (request, "Describe this picture:", images);
  g_free (endpoint->api_version);
  endpoint->api_version = g_strdup ("2023-08-01-preview");

  gaze_test_result_start (&r, fixture->client, endpoint, NULL, request, FALSE, NULL);
  gaze_test_result_wait (&r);
  g_assert_no_error (r.error);
  g_assert_cmpstr (gaze_test_server_get_last_api_version (fixture->server),
                   ==,
                   "2023-08-01-preview");

  body = gaze_test_server_get_last_body (fixture->server);
  messages = json_object_get_array_member (json_node_get_object (body), "messages");
  content = json_object_get_array_member (json_array_get_object_element (messages, 0), "content");
  g_assert_cmpstr (json_array_get_string_element (content, 0), ==, "Describe this picture:");
  g_assert_true (json_object_has_member (json_array_get_object_element (content, 1), "image"));

  g_assert_cmpuint (gaze_test_server_get_last_n_images (fixture->server), ==, 1);
  gaze_test_server_get_last_image_size (fixture->server, 0, &width, &height);
  g_assert_cmpint (width, ==, 512);
  g_assert_cmpint (height, ==, 384);
  gaze_test_result_clear (&r);
}

static void
expect_error (GazeTestFixture *fixture,
              GazeEndpoint    *endpoint,
              const char      *key,
              GazeClientError  code,
              const char      *words)
{
  g_autoptr(GazeRequest) request = gaze_test_request_new ("Hello", NULL);
  GazeTestResult r;

  gaze_test_result_start (&r, fixture->client, endpoint ? endpoint : fixture->endpoint, key,
                          request, FALSE, NULL);
  gaze_test_result_wait (&r);
  g_assert_null (r.reply);
  g_assert_error (r.error, GAZE_CLIENT_ERROR, (int)code);
  if (words != NULL && strstr (r.error->message, words) == NULL)
    g_error ("“%s” does not say “%s”", r.error->message, words);
  /* No sentence ever carries the key. */
  g_assert_null (strstr (r.error->message, GAZE_TEST_SERVER_KEY));
  gaze_test_result_clear (&r);
}

static void
test_client_wrong_key (GazeTestFixture *fixture,
                       gconstpointer    data)
{
  expect_error (fixture, NULL, "not-the-key", GAZE_CLIENT_ERROR_UNAUTHORIZED, "KEY 1");
  g_assert_false (gaze_test_server_get_last_key_ok (fixture->server));
}

static void
test_client_wrong_deployment (GazeTestFixture *fixture,
                              gconstpointer    data)
{
  g_autoptr(GazeEndpoint) endpoint = gaze_endpoint_copy (fixture->endpoint);

  g_free (endpoint->deployment);
  endpoint->deployment = g_strdup ("GPT4V");
  expect_error (fixture, endpoint, NULL, GAZE_CLIENT_ERROR_DEPLOYMENT_NOT_FOUND, "“GPT4V”");
  g_assert_cmpstr (gaze_test_server_get_last_path (fixture->server), ==,
                   "/openai/deployments/GPT4V/chat/completions");
}

static void
test_client_wrong_path (GazeTestFixture *fixture,
                        gconstpointer    data)
{
  g_autoptr(GazeEndpoint) endpoint = gaze_endpoint_copy (fixture->endpoint);
  g_autofree char *base = g_strconcat (endpoint->base_url, "/not-azure", NULL);

  g_free (endpoint->base_url);
  endpoint->base_url = g_steal_pointer (&base);
  expect_error (fixture, endpoint, NULL, GAZE_CLIENT_ERROR_ENDPOINT_NOT_FOUND, "Preferences");
}

static void
test_client_rate_limited (GazeTestFixture *fixture,
                          gconstpointer    data)
{
  const char *headers[] = { "Retry-After: 7",
                            "apim-request-id: 0c2d7a6e-1111-4a2b-9c3d-2e4f5a6b7c8d",
                            NULL };
  g_autoptr(GazeRequest) request = gaze_test_request_new ("Hello", NULL);
  GazeTestResult r;

  gaze_test_server_queue_reply (fixture->server, 429, "application/json",
                                "{\"error\":{\"code\":\"429\","
                                "\"message\":\"Rate limit is exceeded. Try again in 7 seconds.\"}}",
                                headers);
  gaze_test_fixture_complete (fixture, request, &r);
  g_assert_error (r.error, GAZE_CLIENT_ERROR, GAZE_CLIENT_ERROR_RATE_LIMITED);
  g_assert_cmpint (gaze_client_error_get_retry_after_ms (r.error), ==, 7000);
  g_assert_cmpstr (gaze_client_error_get_request_id (r.error),
                   ==,
                   "0c2d7a6e-1111-4a2b-9c3d-2e4f5a6b7c8d");
  g_assert_nonnull (strstr (r.error->message, "7 seconds"));
  gaze_test_result_clear (&r);
}

static void
test_client_content_filter (GazeTestFixture *fixture,
                            gconstpointer    data)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST,
                                                 "data",
                                                 "replies",
                                                 "content-filter-prompt-400.json",
                                                 NULL);
  g_autoptr(GazeRequest) request = gaze_test_request_new ("Hello", NULL);
  GazeTestResult r;

  gaze_test_server_queue_reply_file (fixture->server, 400, path, NULL);
  gaze_test_fixture_complete (fixture, request, &r);
  g_assert_error (r.error, GAZE_CLIENT_ERROR, GAZE_CLIENT_ERROR_CONTENT_FILTERED);
  g_assert_nonnull (strstr (r.error->message, "blocked word list"));
  gaze_test_result_clear (&r);
}

static void
test_client_filtered_answer (GazeTestFixture *fixture,
                             gconstpointer    data)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST,
                                                 "data",
                                                 "replies",
                                                 "content-filter-completion-200.json",
                                                 NULL);
  g_autoptr(GazeRequest) request = gaze_test_request_new ("Hello", NULL);
  GazeTestResult r;

  gaze_test_server_queue_reply_file (fixture->server, 200, path, NULL);
  gaze_test_fixture_complete (fixture, request, &r);
  g_assert_no_error (r.error);
  g_assert_cmpstr (r.reply->finish_reason, ==, "content_filter");
  g_assert_cmpstr (r.reply->content, ==, "");
  gaze_test_result_clear (&r);
}

static void
test_client_server_error (GazeTestFixture *fixture,
                          gconstpointer    data)
{
  g_autoptr(GazeRequest) request = gaze_test_request_new ("Hello", NULL);
  GazeTestResult r;

  gaze_test_server_queue_reply (fixture->server,
                                503,
                                "text/html",
                                "<html>Service Unavailable</html>",
                                NULL);
  gaze_test_fixture_complete (fixture, request, &r);
  g_assert_error (r.error, GAZE_CLIENT_ERROR, GAZE_CLIENT_ERROR_SERVER_ERROR);
  g_assert_nonnull (strstr (r.error->message, "503"));
  gaze_test_result_clear (&r);
}

static void
test_client_unreadable (GazeTestFixture *fixture,
                        gconstpointer    data)
{
  static const char *bodies[] = {
    "<html>captive portal</html>",
    "{\"choices\": [{\"message\": {\"content\": \"cut",
    "{\"choices\": [{\"message\": {\"content\": 42}}]}",
    "{\"choices\": {}}",
    "[]",
    " ",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bodies); i++)
    {
      g_autoptr(GazeRequest) request = gaze_test_request_new ("Hello", NULL);
      GazeTestResult r;

      gaze_test_server_queue_reply (fixture->server, 200, "application/json", bodies[i], NULL);
      gaze_test_fixture_complete (fixture, request, &r);
      g_assert_error (r.error, GAZE_CLIENT_ERROR, GAZE_CLIENT_ERROR_UNREADABLE_REPLY);
      g_assert_nonnull (strstr (r.error->message, "cannot read"));
      gaze_test_result_clear (&r);
    }
}

static void
test_client_truncated (GazeTestFixture *fixture,
                       gconstpointer    data)
{
  g_autoptr(GazeRequest) request = gaze_test_request_new ("Hello", NULL);
  GazeTestResult r;

  gaze_test_server_queue_truncated (fixture->server);
  gaze_test_fixture_complete (fixture, request, &r);
  g_assert_nonnull (r.error);
  g_assert_true (r.error->domain == GAZE_CLIENT_ERROR);
  g_assert_true (r.error->code == GAZE_CLIENT_ERROR_NETWORK ||
                 r.error->code == GAZE_CLIENT_ERROR_UNREADABLE_REPLY);
  gaze_test_result_clear (&r);
}

static void
test_client_refused (GazeTestFixture *fixture,
                     gconstpointer    data)
{
  g_autoptr(GSocketListener) listener = g_socket_listener_new ();
  g_autoptr(GazeEndpoint) endpoint = gaze_endpoint_copy (fixture->endpoint);
  guint16 port;

  /* Take a free port and let it go, so that nothing listens there. */
  port = g_socket_listener_add_any_inet_port (listener, NULL, NULL);
  g_socket_listener_close (listener);

  g_free (endpoint->base_url);
  endpoint->base_url = g_strdup_printf ("http://127.0.0.1:%u", port);
  expect_error (fixture, endpoint, NULL, GAZE_CLIENT_ERROR_NETWORK, "127.0.0.1");
}

static void
wait_for_answer_done (GazeTestServer *server)
{
  while (!gaze_test_server_get_last_answer_done (server))
    g_main_context_iteration (NULL, TRUE);
}

/* A server that sends a whole answer without end, or an error as long: the
 * client keeps no more than its cap of either, stops reading there and
 * hangs up, and the next question goes through.
 */
static void
test_client_reply_too_large (GazeTestFixture *fixture,
                             gconstpointer    data)
{
  const gsize cap = 256 * 1024;
  const guint n_pieces = 1024;
  g_autoptr(GBytes) piece = g_bytes_new_take (g_strnfill (64 * 1024, ' '), 64 * 1024);
  guint64 size = (guint64) n_pieces * g_bytes_get_size (piece);
  g_autoptr(GazeRequest) request = gaze_test_request_new ("Hello", NULL);
  GazeTestResult r;

  gaze_client_set_max_reply_size (fixture->client, cap);
  gaze_test_server_set_chunk_interval (fixture->server, 0);

  gaze_test_server_queue_chunked_reply (fixture->server, 200, "application/json", piece, n_pieces);
  gaze_test_fixture_complete (fixture, request, &r);
  g_assert_error (r.error, GAZE_CLIENT_ERROR, GAZE_CLIENT_ERROR_UNREADABLE_REPLY);
  g_assert_nonnull (strstr (r.error->message, "cannot read"));
  g_assert_nonnull (gaze_client_error_get_request_id (r.error));
  gaze_test_result_clear (&r);

  wait_for_answer_done (fixture->server);
  g_test_message ("An endless reply: the server wrote %.1f MiB of %.0f MiB, the cap is %.2f MiB",
                  gaze_test_server_get_last_answer_written (fixture->server) / 1048576.0,
                  size / 1048576.0, cap / 1048576.0);
  g_assert_cmpuint (gaze_test_server_get_last_answer_written (fixture->server), <, size / 4);

  /* An error's start is all it takes to tell which error it is. */
  gaze_test_server_queue_chunked_reply (fixture->server, 400, "application/json", piece, n_pieces);
  gaze_test_fixture_complete (fixture, request, &r);
  g_assert_error (r.error, GAZE_CLIENT_ERROR, GAZE_CLIENT_ERROR_BAD_REQUEST);
  gaze_test_result_clear (&r);

  wait_for_answer_done (fixture->server);
  g_assert_cmpuint (gaze_test_server_get_last_answer_written (fixture->server), <, size / 4);

  gaze_test_fixture_complete (fixture, request, &r);
  g_assert_no_error (r.error);
  g_assert_nonnull (strstr (r.reply->content, "Hello"));
  gaze_test_result_clear (&r);
}

/* The cap holds to the byte: an answer padded to exactly the cap is read,
 * one byte more is not.
 */
static void
test_client_reply_at_cap (GazeTestFixture *fixture,
                          gconstpointer    data)
{
  static const char answer[] =
    "{\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"Fits.\"},"
    "\"finish_reason\":\"stop\"}]}";
  const gsize cap = 4096;
  g_autofree char *body = g_strnfill (cap, ' ');
  g_autoptr(GazeRequest) request = gaze_test_request_new ("Hello", NULL);
  GazeTestResult r;

  memcpy (body, answer, strlen (answer));
  gaze_client_set_max_reply_size (fixture->client, cap);

  gaze_test_server_queue_reply (fixture->server, 200, "application/json", body, NULL);
  gaze_test_fixture_complete (fixture, request, &r);
  g_assert_no_error (r.error);
  g_assert_cmpstr (r.reply->content, ==, "Fits.");
  gaze_test_result_clear (&r);

  gaze_client_set_max_reply_size (fixture->client, cap - 1);
  gaze_test_server_queue_reply (fixture->server, 200, "application/json", body, NULL);
  gaze_test_fixture_complete (fixture, request, &r);
  g_assert_error (r.error, GAZE_CLIENT_ERROR, GAZE_CLIENT_ERROR_UNREADABLE_REPLY);
  gaze_test_result_clear (&r);
}

static void
test_client_cancel (GazeTestFixture *fixture,
                    gconstpointer    data)
{
  g_autoptr(GazeRequest) request = gaze_test_request_new ("Hello", NULL);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GTimer) timer = g_timer_new ();
  GazeTestResult r;

  gaze_test_server_set_delay (fixture->server, 5000);
  gaze_test_cancel_later (cancellable, 50);
  gaze_test_result_start (&r, fixture->client, fixture->endpoint, NULL, request, FALSE,
                          cancellable);
  gaze_test_result_wait (&r);
  g_assert_error (r.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  /* Cancelling does not wait for the server's answer. */
  g_assert_cmpfloat (g_timer_elapsed (timer, NULL), <, 4.0);
  gaze_test_result_clear (&r);
  gaze_test_server_set_delay (fixture->server, 0);
}

/* The body is built elsewhere now; it must still be the one
 * gaze_request_to_bytes() builds, byte for byte, for both ways of asking.
 */
static void
test_client_body_as_built (GazeTestFixture *fixture,
                           gconstpointer    data)
{
  g_autoptr(GazeImage) image = make_image (800, 600, GAZE_DETAIL_LOW);

  for (int stream = FALSE; stream <= TRUE; stream++)
    {
      g_autoptr(GazeRequest) request = gaze_test_request_new ("What is “this”?\n\tA\\B", image);
      g_autoptr(GPtrArray) images = g_ptr_array_new ();
      g_autoptr(GBytes) expected = NULL;
      GazeTestResult r;

      /* A photo left out of an earlier turn too, which only a name stands for. */
      g_ptr_array_add (images, image);
      g_ptr_array_add (images, image);
      gaze_request_set_system_prompt (request, "Be brief.");
      gaze_request_add_assistant_message (request, "A blue square.");
      gaze_request_add_user_message_full (request, "And these?", images, 1);
      gaze_request_add_assistant_message (request, "The same square, twice.");
      gaze_request_add_user_message (request, "Sure?", NULL);

      gaze_test_result_start (&r, fixture->client, fixture->endpoint, NULL, request, stream, NULL);
      gaze_test_result_wait (&r);
      g_assert_no_error (r.error);

      /* Built after the call, which set "stream" on a streamed request. */
      expected = gaze_request_to_bytes (request);
      g_assert_cmpuint (gaze_test_server_get_n_requests (fixture->server), ==, stream + 1);
      g_assert_true (g_bytes_equal (gaze_test_server_get_last_raw_body (fixture->server),
                                    expected));
      g_assert_cmpint (gaze_test_server_get_last_stream (fixture->server), ==, stream);
      gaze_test_result_clear (&r);
    }
}

typedef struct
{
  GazeTestServer *server;
  gint64          last_tick;
  gint64          longest_gap;
  guint           n_ticks;
  guint           n_ticks_before_sent;
} Ticks;

/* The server shares the loop and reads the whole body in one go when it
 * has arrived, so only the gaps before then are the client's.
 */
static gboolean
tick_cb (gpointer user_data)
{
  Ticks *ticks = user_data;
  gint64 now = g_get_monotonic_time ();

  if (gaze_test_server_get_n_requests (ticks->server) == 0)
    ticks->longest_gap = MAX (ticks->longest_gap, now - ticks->last_tick);
  ticks->last_tick = now;
  ticks->n_ticks++;
  if (gaze_test_server_get_n_started (ticks->server) == 0)
    ticks->n_ticks_before_sent++;

  return G_SOURCE_CONTINUE;
}

/* A conversation with many photos makes a body of over 10 MB, which takes
 * milliseconds to write: not on the thread of the window.
 */
static void
test_client_large_body_off_main_loop (GazeTestFixture *fixture,
                                      gconstpointer    data)
{
  g_autoptr(GazeImage) image = make_noise_image ();
  g_autoptr(GazeRequest) request = make_large_request (image);
  g_autofree char *long_answer = g_strnfill (4 * 1000 * 1000, 'a');
  g_autoptr(GBytes) expected = NULL;
  Ticks ticks = { fixture->server };
  gint64 start;
  double build_ms;
  double size_mb;
  guint tick_id;
  GazeTestResult r;

  /* The photos are copied into the body as they are, in a few
   * milliseconds: too few for the count of ticks below to tell a worker
   * from the main thread on a busy machine. Text is escaped character by
   * character, so a long answer makes the body take long enough to build.
   */
  gaze_request_add_assistant_message (request, long_answer);
  gaze_request_add_user_message (request, "Go on.", NULL);

  start = g_get_monotonic_time ();
  expected = gaze_request_to_bytes (request);
  build_ms = (g_get_monotonic_time () - start) / 1000.0;
  size_mb = g_bytes_get_size (expected) / 1e6;
  g_assert_cmpfloat (size_mb, >=, 10);

  tick_id = g_timeout_add (1, tick_cb, &ticks);
  ticks.last_tick = g_get_monotonic_time ();
  gaze_test_fixture_complete (fixture, request, &r);
  g_source_remove (tick_id);

  g_assert_no_error (r.error);
  g_assert_cmpuint (gaze_test_server_get_n_requests (fixture->server), ==, 1);
  g_assert_true (g_bytes_equal (gaze_test_server_get_last_raw_body (fixture->server), expected));

  g_test_message ("%.1f MB built in %.1f ms (%.2f ms per MB); while it was built and sent, "
                  "the longest gap between 1 ms ticks was %.1f ms, and %u of %u ticks came "
                  "before the server saw the request",
                  size_mb, build_ms, build_ms / size_mb, ticks.longest_gap / 1000.0,
                  ticks.n_ticks_before_sent, ticks.n_ticks);

  /* Not a time limit, which a loaded machine would break: built on the
   * main thread, the body would hold up the loop in one go, and the
   * request would reach the server within a tick or two of the loop
   * turning again. Built in a worker, the loop keeps ticking meanwhile.
   */
  g_assert_cmpuint (ticks.n_ticks_before_sent, >=, 5);
  gaze_test_result_clear (&r);
}

/* Stop pressed at once: the body is still being built, and never sent. */
static void
test_client_cancel_while_building (GazeTestFixture *fixture,
                                   gconstpointer    data)
{
  g_autoptr(GazeImage) image = make_noise_image ();

  for (int stream = FALSE; stream <= TRUE; stream++)
    {
      g_autoptr(GCancellable) cancellable = g_cancellable_new ();
      GazeRequest *request = make_large_request (image);
      gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
      GWeakRef weak;
      GObject *alive;
      GazeTestResult r;

      gaze_test_result_start (&r, fixture->client, fixture->endpoint, NULL, request, stream,
                              cancellable);
      g_cancellable_cancel (cancellable);
      gaze_test_result_wait (&r);
      g_assert_error (r.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_assert_null (r.reply);
      gaze_test_result_clear (&r);

      /* The worker lets go of the request when it is done; whatever it
       * built by then goes nowhere.
       */
      g_weak_ref_init (&weak, request);
      g_object_unref (request);
      while ((alive = g_weak_ref_get (&weak)) != NULL)
        {
          g_object_unref (alive);
          if (g_get_monotonic_time () > deadline)
            g_error ("The worker still holds the request");
          g_main_context_iteration (NULL, FALSE);
          g_usleep (1000);
        }
      g_weak_ref_clear (&weak);
      while (g_main_context_pending (NULL))
        g_main_context_iteration (NULL, FALSE);

      g_assert_cmpuint (gaze_test_server_get_n_started (fixture->server), ==, 0);
    }
}

static void
test_client_second_turn (GazeTestFixture *fixture,
                         gconstpointer    data)
{
  g_autoptr(GazeConversation) conversation = gaze_conversation_new ();
  g_autoptr(GazeImage) image = make_image (1000, 1000, GAZE_DETAIL_LOW);
  g_autoptr(GPtrArray) images = g_ptr_array_new ();
  g_autoptr(GazeRequest) first = NULL;
  g_autoptr(GazeRequest) second = NULL;
  JsonNode *body;
  JsonArray *messages;
  JsonObject *message;
  GazeTestResult r;

  g_ptr_array_add (images, image);
  first = gaze_conversation_build_request (conversation,
                                           GAZE_DEFAULT_API_VERSION,
                                           "What is this?",
                                           images);
  gaze_test_fixture_complete (fixture, first, &r);
  g_assert_no_error (r.error);
  gaze_conversation_add_turn (conversation, "What is this?", images, r.reply->content);

  second = gaze_conversation_build_request (conversation,
                                            GAZE_DEFAULT_API_VERSION,
                                            "And its colour?",
                                            NULL);
  gaze_test_result_clear (&r);
  gaze_test_fixture_complete (fixture, second, &r);
  g_assert_no_error (r.error);

  /* The second request carries the first turn's image and answer. */
  body = gaze_test_server_get_last_body (fixture->server);
  messages = json_object_get_array_member (json_node_get_object (body), "messages");
  g_assert_cmpuint (json_array_get_length (messages), ==, 3);
  message = json_array_get_object_element (messages, 1);
  g_assert_cmpstr (json_object_get_string_member (message, "role"), ==, "assistant");
  g_assert_cmpstr (json_object_get_string_member (message, "content"), ==,
                   gaze_conversation_get_answer (conversation, 0));
  g_assert_cmpuint (gaze_test_server_get_last_n_images (fixture->server), ==, 1);
  gaze_test_result_clear (&r);

  /* Exported, the conversation names its photo but does not embed it, and
   * a question cannot turn into a heading of the document.
   */
  {
    g_autofree char *markdown = NULL;

    gaze_conversation_add_turn (conversation, "# not a heading\nsecond line", NULL, "An answer.");
    markdown = gaze_conversation_to_markdown (conversation);
    g_assert_nonnull (strstr (markdown, "> What is this?\n"));
    g_assert_nonnull (strstr (markdown, "*photo.jpg* (512 × 512)"));
    g_assert_nonnull (strstr (markdown, gaze_conversation_get_answer (conversation, 0)));
    g_assert_nonnull (strstr (markdown, "> # not a heading\n> second line\n"));
    g_assert_null (strstr (markdown, "base64"));
    g_assert_null (strstr (markdown, GAZE_TEST_SERVER_KEY));
  }
}

static void
test_client_too_many_images (GazeTestFixture *fixture,
                             gconstpointer    data)
{
  g_autoptr(GazeImage) image = make_image (64, 64, GAZE_DETAIL_LOW);
  g_autoptr(GazeRequest) request = gaze_request_new (GAZE_DEFAULT_API_VERSION);
  g_autoptr(GPtrArray) images = g_ptr_array_new ();
  GazeTestResult r;

  for (guint i = 0; i < GAZE_MAX_IMAGES_PER_REQUEST + 1; i++)
    g_ptr_array_add (images, image);
  gaze_request_add_user_message (request, "Eleven photos", images);

  /* Refused before anything is sent. */
  gaze_test_fixture_complete (fixture, request, &r);
  g_assert_nonnull (r.error);
  g_assert_true (r.error->domain == GAZE_IMAGE_ERROR);
  g_assert_cmpuint (gaze_test_server_get_n_requests (fixture->server), ==, 0);
  gaze_test_result_clear (&r);
}

/* What the test's web server has to give. An endless photo comes
 * chunked, without a Content-Length, as long as the client reads: each
 * piece is queued once the one before it has gone out.
 */
typedef struct
{
  GBytes   *photo;
  GBytes   *piece;
  guint64   endless_size;
  guint64   endless_queued;
  guint64   endless_written;
  gboolean  endless_done;
} Photos;

static void
endless_queue_piece (SoupServerMessage *message,
                     Photos            *photos)
{
  SoupMessageBody *body = soup_server_message_get_response_body (message);

  if (photos->endless_queued < photos->endless_size)
    {
      soup_message_body_append_bytes (body, photos->piece);
      photos->endless_queued += g_bytes_get_size (photos->piece);
    }
  else
    {
      soup_message_body_complete (body);
    }
}

static void
endless_wrote_body_data_cb (SoupServerMessage *message,
                            guint              size,
                            Photos            *photos)
{
  photos->endless_written += size;
}

static void
endless_finished_cb (SoupServerMessage *message,
                     Photos            *photos)
{
  photos->endless_done = TRUE;
}

static void
photo_server_cb (SoupServer        *server,
                 SoupServerMessage *message,
                 const char        *path,
                 GHashTable        *query,
                 gpointer           user_data)
{
  Photos *photos = user_data;
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (message);

  if (g_str_equal (path, "/photo.jpg"))
    {
      soup_server_message_set_status (message, SOUP_STATUS_OK, NULL);
      soup_server_message_set_response (message, "image/jpeg", SOUP_MEMORY_COPY,
                                        g_bytes_get_data (photos->photo, NULL),
                                        g_bytes_get_size (photos->photo));
    }
  else if (g_str_equal (path, "/chunked.jpg"))
    {
      SoupMessageBody *body = soup_server_message_get_response_body (message);
      gsize half = g_bytes_get_size (photos->photo) / 2;
      g_autoptr(GBytes) first = g_bytes_new_from_bytes (photos->photo, 0, half);
      g_autoptr(GBytes) second = g_bytes_new_from_bytes (photos->photo, half,
                                                         g_bytes_get_size (photos->photo) - half);

      soup_server_message_set_status (message, SOUP_STATUS_OK, NULL);
      soup_message_headers_set_content_type (headers, "image/jpeg", NULL);
      soup_message_headers_set_encoding (headers, SOUP_ENCODING_CHUNKED);
      soup_message_body_append_bytes (body, first);
      soup_message_body_append_bytes (body, second);
      soup_message_body_complete (body);
    }
  else if (g_str_equal (path, "/endless.jpg"))
    {
      soup_server_message_set_status (message, SOUP_STATUS_OK, NULL);
      soup_message_headers_set_content_type (headers, "image/jpeg", NULL);
      soup_message_headers_set_encoding (headers, SOUP_ENCODING_CHUNKED);
      soup_message_body_set_accumulate (soup_server_message_get_response_body (message), FALSE);
      g_signal_connect (message, "wrote-chunk", G_CALLBACK (endless_queue_piece), photos);
      g_signal_connect (message,
                        "wrote-body-data",
                        G_CALLBACK (endless_wrote_body_data_cb),
                        photos);
      g_signal_connect (message, "finished", G_CALLBACK (endless_finished_cb), photos);
      endless_queue_piece (message, photos);
    }
  else if (g_str_equal (path, "/huge.jpg"))
    {
      /* Says it is larger than anything worth downloading. */
      soup_message_headers_set_content_length (headers, (goffset)GAZE_CLIENT_MAX_DOWNLOAD_SIZE + 1);
      soup_server_message_set_status (message, SOUP_STATUS_OK, NULL);
      soup_message_headers_set_encoding (headers, SOUP_ENCODING_CONTENT_LENGTH);
      soup_server_message_set_response (message, "image/jpeg", SOUP_MEMORY_STATIC, "x", 1);
    }
  else
    {
      soup_server_message_set_status (message, SOUP_STATUS_NOT_FOUND, NULL);
    }
}

static void
download_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  GBytes **out = user_data;
  g_autoptr(GError) error = NULL;

  *out = gaze_client_download_finish (GAZE_CLIENT (object), result, &error);
  if (*out == NULL)
    *out = g_bytes_new (error->message, strlen (error->message) + 1);
}

static GBytes *
download (GazeTestFixture *fixture,
          const char      *base,
          const char      *path)
{
  g_autofree char *uri = g_strconcat (base, path, NULL);
  GBytes *bytes = NULL;

  gaze_client_download_async (fixture->client, uri, NULL, download_cb, &bytes);
  while (bytes == NULL)
    g_main_context_iteration (NULL, TRUE);

  return bytes;
}

static void
assert_download_refused (GBytes *bytes)
{
  const char *message = g_bytes_get_data (bytes, NULL);

  if (strstr (message, "larger than Gaze downloads") == NULL)
    g_error ("“%s” does not refuse the photo as too large", message);
}

static void
test_client_download (GazeTestFixture *fixture,
                      gconstpointer    data)
{
  g_autoptr(GazeImage) image = make_image (100, 80, GAZE_DETAIL_LOW);
  g_autoptr(SoupServer) server = soup_server_new (NULL, NULL);
  g_autoptr(GBytes) piece = NULL;
  g_autofree char *base = NULL;
  Photos photos = { gaze_image_get_jpeg (image) };
  gsize photo_size = g_bytes_get_size (photos.photo);
  gsize cap = 1024 * 1024;
  GSList *uris;

  soup_server_add_handler (server, NULL, photo_server_cb, &photos, NULL);
  g_assert_true (soup_server_listen_local (server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, NULL));
  uris = soup_server_get_uris (server);
  base = g_uri_to_string (uris->data);
  g_slist_free_full (uris, (GDestroyNotify)g_uri_unref);
  if (g_str_has_suffix (base, "/"))
    base[strlen (base) - 1] = '\0';

  {
    g_autoptr(GBytes) got = download (fixture, base, "/photo.jpg");
    g_autoptr(GBytes) chunked = download (fixture, base, "/chunked.jpg");
    g_autoptr(GBytes) missing = download (fixture, base, "/gone.jpg");
    g_autoptr(GBytes) huge = download (fixture, base, "/huge.jpg");

    g_assert_true (g_bytes_equal (got, photos.photo));
    g_assert_true (g_bytes_equal (chunked, photos.photo));
    g_assert_nonnull (strstr (g_bytes_get_data (missing, NULL), "HTTP 404"));
    assert_download_refused (huge);
  }

  /* The cap holds to the byte, with and without a Content-Length. */
  gaze_client_set_max_download_size (fixture->client, photo_size);
  {
    g_autoptr(GBytes) got = download (fixture, base, "/photo.jpg");
    g_autoptr(GBytes) chunked = download (fixture, base, "/chunked.jpg");

    g_assert_true (g_bytes_equal (got, photos.photo));
    g_assert_true (g_bytes_equal (chunked, photos.photo));
  }
  gaze_client_set_max_download_size (fixture->client, photo_size - 1);
  {
    g_autoptr(GBytes) got = download (fixture, base, "/photo.jpg");
    g_autoptr(GBytes) chunked = download (fixture, base, "/chunked.jpg");

    assert_download_refused (got);
    assert_download_refused (chunked);
  }

  /* A server that never stops sending is read up to the cap, no further:
   * of the 64 MiB it would send, it gets to write about the cap and what
   * the sockets hold in between before the client hangs up.
   */
  gaze_client_set_max_download_size (fixture->client, cap);
  piece = g_bytes_new_take (g_malloc0 (64 * 1024), 64 * 1024);
  photos.piece = piece;
  photos.endless_size = 64 * cap;
  {
    g_autoptr(GBytes) endless = download (fixture, base, "/endless.jpg");

    assert_download_refused (endless);
    while (!photos.endless_done)
      g_main_context_iteration (NULL, TRUE);

    g_test_message ("An endless photo: the server wrote %.1f MiB of %.0f MiB, the cap is %.1f MiB",
                    photos.endless_written / 1048576.0, photos.endless_size / 1048576.0,
                    cap / 1048576.0);
    g_assert_cmpuint (photos.endless_written, >, cap);
    g_assert_cmpuint (photos.endless_written, <, photos.endless_size / 4);
  }

  /* After a connection dropped in the middle, the next photo comes whole. */
  {
    g_autoptr(GBytes) got = download (fixture, base, "/photo.jpg");

    g_assert_true (g_bytes_equal (got, photos.photo));
  }
}

static GString *debug_log;

static GLogWriterOutput
capture_writer (GLogLevelFlags   level,
                const GLogField *fields,
                gsize            n_fields,
                gpointer         user_data)
{
  for (gsize i = 0; i < n_fields; i++)
    {
      if (g_str_equal (fields[i].key, "MESSAGE") && fields[i].length < 0)
        {
          g_string_append (debug_log, fields[i].value);
          g_string_append_c (debug_log, '\n');
        }
    }

  return G_LOG_WRITER_HANDLED;
}

static void
test_client_debug_log_redacts_key (void)
{
  g_autoptr(GazeTestServer) server = gaze_test_server_new ();
  g_autoptr(GazeClient) client = NULL;
  g_autoptr(GazeRequest) request = gaze_test_request_new ("Hello", NULL);
  g_autoptr(GazeEndpoint) endpoint = NULL;
  g_autofree char *url = gaze_test_server_dup_endpoint (server);
  GazeTestResult r;

  if (g_test_subprocess ())
    {
      debug_log = g_string_new (NULL);
      g_log_set_writer_func (capture_writer, NULL, NULL);
      g_setenv ("G_MESSAGES_DEBUG", "all", TRUE);

      client = gaze_client_new ();
      endpoint = gaze_endpoint_resolve (url, GAZE_TEST_SERVER_DEPLOYMENT, NULL, NULL);
      gaze_test_result_start (&r, client, endpoint, NULL, request, FALSE, NULL);
      gaze_test_result_wait (&r);
      g_assert_no_error (r.error);
      gaze_test_result_clear (&r);

      g_assert_nonnull (strstr (debug_log->str, "api-key: [REDACTED]"));
      g_assert_nonnull (strstr (debug_log->str, "POST /openai/deployments/gpt4v/chat/completions"));
      g_assert_null (strstr (debug_log->str, GAZE_TEST_SERVER_KEY));
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(name, func) g_test_add ("/client/" name, GazeTestFixture, NULL, \
                                 gaze_test_fixture_set_up, func, gaze_test_fixture_tear_down)
  ADD ("success", test_client_success);
  ADD ("legacy-shape", test_client_legacy);
  ADD ("wrong-key", test_client_wrong_key);
  ADD ("wrong-deployment", test_client_wrong_deployment);
  ADD ("wrong-path", test_client_wrong_path);
  ADD ("rate-limited", test_client_rate_limited);
  ADD ("content-filter", test_client_content_filter);
  ADD ("filtered-answer", test_client_filtered_answer);
  ADD ("server-error", test_client_server_error);
  ADD ("unreadable", test_client_unreadable);
  ADD ("truncated", test_client_truncated);
  ADD ("refused", test_client_refused);
  ADD ("cancel", test_client_cancel);
  ADD ("body-as-built", test_client_body_as_built);
  ADD ("large-body-off-main-loop", test_client_large_body_off_main_loop);
  ADD ("cancel-while-building", test_client_cancel_while_building);
  ADD ("second-turn", test_client_second_turn);
  ADD ("too-many-images", test_client_too_many_images);
  ADD ("download", test_client_download);
  ADD ("reply-too-large", test_client_reply_too_large);
  ADD ("reply-at-cap", test_client_reply_at_cap);
#undef ADD
  g_test_add_func ("/client/debug-log-redacts-key", test_client_debug_log_redacts_key);

  return g_test_run ();
}
