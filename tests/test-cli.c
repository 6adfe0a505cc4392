/* test-cli.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Runs the real `gaze --ask` binary against the loopback server, the way a
 * script would, and checks its output, its exit codes, and that the key
 * shows up nowhere.
 */

#include "config.h"

#include <string.h>
#include <glib/gstdio.h>
#include <gdk-pixbuf/gdk-pixbuf.h>

#include "gaze-test-fixture.h"

typedef struct
{
  GazeTestServer *server;
  char           *endpoint;
  char           *tmpdir;
  char           *photo;
} Fixture;


static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GdkPixbuf) pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, 6000, 4000);
  g_autoptr(GError) error = NULL;

  fixture->server = gaze_test_server_new ();
  fixture->endpoint = gaze_test_server_dup_endpoint (fixture->server);
  fixture->tmpdir = g_dir_make_tmp ("gaze-cli-XXXXXX", &error);
  g_assert_no_error (error);

  fixture->photo = g_build_filename (fixture->tmpdir, "photo.jpg", NULL);
  gdk_pixbuf_fill (pixbuf, 0x804020ff);
  g_assert_true (gdk_pixbuf_save (pixbuf, fixture->photo, "jpeg", &error, NULL));
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr(GDir) dir = g_dir_open (fixture->tmpdir, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)))
    {
      g_autofree char *path = g_build_filename (fixture->tmpdir, name, NULL);
      g_remove (path);
    }
  g_rmdir (fixture->tmpdir);

  g_free (fixture->tmpdir);
  g_free (fixture->photo);
  g_free (fixture->endpoint);
  g_assert_finalize_object (fixture->server);
}

static int
count_lines (const char *text)
{
  int n = 0;

  for (const char *p = text; *p; p++)
    n += *p == '\n';

  return n;
}

static void
test_cli_answer (Fixture       *fixture,
                 gconstpointer  data)
{
  const char *argv[] = { "--ask", "What is in this picture?", "--endpoint", fixture->endpoint,
                         "--deployment", "gpt4v", "--detail", "low", "--max-tokens", "123",
                         fixture->photo, NULL };
  GazeTestRun run;
  int width, height;

  gaze_test_run_gaze (&run, GAZE_TEST_SERVER_KEY, NULL, argv);
  g_assert_cmpint (run.status, ==, 0);
  g_assert_nonnull (strstr (run.out, "512 × 341"));
  g_assert_nonnull (strstr (run.out, "What is in this picture?"));
  g_assert_cmpstr (run.err, ==, "");

  g_assert_cmpuint (gaze_test_server_get_last_n_images (fixture->server), ==, 1);
  gaze_test_server_get_last_image_size (fixture->server, 0, &width, &height);
  g_assert_cmpint (width, ==, 512);
  g_assert_cmpint (height, ==, 341);
  g_assert_cmpstr (gaze_test_server_get_last_image_detail (fixture->server, 0), ==, "low");
  g_assert_cmpint (gaze_test_server_get_last_max_tokens (fixture->server), ==, 123);
  gaze_test_run_clear (&run);
}

static void
test_cli_target_uri (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autofree char *uri = g_strconcat (fixture->endpoint,
                                      "/openai/deployments/gpt4v/chat/completions"
                                      "?api-version=2024-06-01",
                                      NULL);
  const char *argv[] = { "--ask", "Hello", "--endpoint", uri, NULL };
  GazeTestRun run;

  gaze_test_run_gaze (&run, GAZE_TEST_SERVER_KEY, NULL, argv);
  g_assert_cmpint (run.status, ==, 0);
  g_assert_cmpstr (gaze_test_server_get_last_api_version (fixture->server), ==, "2024-06-01");
  gaze_test_run_clear (&run);
}

typedef struct
{
  const char *name;
  const char *key;
  const char *deployment;
  const char *file_contents;   /* NULL: use the photo */
  int         status;
  const char *words;
} Failure;

static const Failure failures[] = {
  { "wrong-key", "nope", "gpt4v", NULL, 4, "KEY 1" },
  { "no-key", "", "gpt4v", NULL, 4, "AZURE_OPENAI_API_KEY" },
  { "wrong-deployment", GAZE_TEST_SERVER_KEY, "gpt-4o", NULL, 5, "“gpt-4o”" },
  { "not-an-image", GAZE_TEST_SERVER_KEY, "gpt4v", "hello, world\n", 3, "notes.jpg" },
  { "empty-file", GAZE_TEST_SERVER_KEY, "gpt4v", "", 3, "notes.jpg" },
};

static void
test_cli_failures (Fixture       *fixture,
                   gconstpointer  data)
{
  for (guint i = 0; i < G_N_ELEMENTS (failures); i++)
    {
      const Failure *f = &failures[i];
      g_autofree char *path = NULL;
      const char *argv[] = { "--ask", "What?", "--endpoint", fixture->endpoint,
                             "--deployment", f->deployment, NULL, NULL };
      GazeTestRun run;

      if (f->file_contents != NULL)
        {
          path = g_build_filename (fixture->tmpdir, "notes.jpg", NULL);
          g_assert_true (g_file_set_contents (path, f->file_contents, -1, NULL));
        }
      argv[6] = path ? path : fixture->photo;

      g_test_message ("%s", f->name);
      gaze_test_run_gaze (&run, f->key, NULL, argv);
      g_assert_cmpint (run.status, ==, f->status);
      g_assert_cmpstr (run.out, ==, "");
      /* One plain sentence, no GLib warnings or criticals. */
      g_assert_cmpint (count_lines (run.err), ==, 1);
      if (strstr (run.err, f->words) == NULL)
        g_error ("%s: “%s” does not say “%s”", f->name, run.err, f->words);
      g_assert_null (strstr (run.err, "CRITICAL"));
      gaze_test_run_clear (&run);
    }
}

static void
test_cli_usage (Fixture       *fixture,
                gconstpointer  data)
{
  const char *bad_detail[] = { "--ask", "Hi", "--endpoint", fixture->endpoint,
                               "--deployment", "gpt4v", "--detail", "ultra", NULL };
  const char *bad_tokens[] = { "--ask", "Hi", "--endpoint", fixture->endpoint,
                               "--deployment", "gpt4v", "--max-tokens", "0", NULL };
  const char *insecure[] = { "--ask", "Hi", "--endpoint", "http://example.com",
                             "--deployment", "gpt4v", NULL };
  const char *empty[] = { "--ask", "  ", "--endpoint", fixture->endpoint, NULL };
  const char **cases[] = { bad_detail, bad_tokens, insecure, empty };
  guint before = gaze_test_server_get_n_requests (fixture->server);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      GazeTestRun run;

      gaze_test_run_gaze (&run, GAZE_TEST_SERVER_KEY, NULL, cases[i]);
      g_assert_cmpint (run.status, ==, 2);
      g_assert_cmpint (count_lines (run.err), ==, 1);
      gaze_test_run_clear (&run);
    }

  /* Nothing was sent. */
  g_assert_cmpuint (gaze_test_server_get_n_requests (fixture->server), ==, before);
}

/* The answer streams to standard output by default; --no-stream waits
 * for all of it. Both print the same.
 */
static void
test_cli_stream (Fixture       *fixture,
                 gconstpointer  data)
{
  const char *streamed[] = { "--ask", "What is in this picture?", "--endpoint", fixture->endpoint,
                             "--deployment", "gpt4v", fixture->photo, NULL };
  const char *whole[] = { "--ask", "What is in this picture?", "--endpoint", fixture->endpoint,
                          "--deployment", "gpt4v", "--no-stream", fixture->photo, NULL };
  JsonNode *body;
  GazeTestRun run;
  GazeTestRun again;

  gaze_test_run_gaze (&run, GAZE_TEST_SERVER_KEY, NULL, streamed);
  g_assert_cmpint (run.status, ==, 0);
  g_assert_true (gaze_test_server_get_last_stream (fixture->server));
  body = gaze_test_server_get_last_body (fixture->server);
  g_assert_true (json_object_has_member (json_node_get_object (body), "stream_options"));
  g_assert_true (g_str_has_prefix (run.out, "I see 1 image ("));
  g_assert_true (g_str_has_suffix (run.out, "”\n"));
  g_assert_cmpint (count_lines (run.out), ==, 1);
  g_assert_cmpstr (run.err, ==, "");

  gaze_test_run_gaze (&again, GAZE_TEST_SERVER_KEY, NULL, whole);
  g_assert_cmpint (again.status, ==, 0);
  g_assert_false (gaze_test_server_get_last_stream (fixture->server));
  g_assert_cmpstr (again.out, ==, run.out);
  g_assert_cmpstr (again.err, ==, "");

  gaze_test_run_clear (&run);
  gaze_test_run_clear (&again);
}

#define EVENT_CONTENT(text) \
  "data: {\"choices\":[{\"delta\":{\"content\":\"" text "\"}," \
  "\"finish_reason\":null,\"index\":0}]}\n\n"

typedef struct
{
  const char *name;
  const char *transcript;   /* a file of data/streams, or NULL */
  const char *body;         /* else this event stream */
  const char *max_tokens;
  int         status;
  const char *out;
  const char *words;
} StreamEnd;

static const StreamEnd stream_ends[] = {
  { "filtered", "sse-azure-stream-content-filtered.txt", NULL, "800", 7,
    "Hey Jude, don't make it bad... better\n", "protected text" },
  { "cut-off", NULL, EVENT_CONTENT ("The") EVENT_CONTENT (" image"), "800", 10,
    "The image\n", "connection ended" },
  { "length", NULL, NULL, "3", 10,
    "I see 1\n", "--max-tokens" },
  { "error", NULL, EVENT_CONTENT ("The") EVENT_CONTENT (" image")
    "data: {\"error\":{\"message\":\"The server had an error.\",\"type\":\"server_error\"}}\n\n",
    "800", 9,
    "The image\n", "The server had an error." },
};

/* How a streamed answer ends shows in the exit status and in one sentence;
 * what arrived before stays printed.
 */
static void
test_cli_stream_ends (Fixture       *fixture,
                      gconstpointer  data)
{
  for (guint i = 0; i < G_N_ELEMENTS (stream_ends); i++)
    {
      const StreamEnd *e = &stream_ends[i];
      const char *argv[] = { "--ask", "What?", "--endpoint", fixture->endpoint,
                             "--deployment", "gpt4v",
                             "--max-tokens", e->max_tokens, fixture->photo, NULL };
      GazeTestRun run;

      if (e->transcript != NULL)
        {
          g_autofree char *path = g_test_build_filename (G_TEST_DIST,
                                                         "data",
                                                         "streams",
                                                         e->transcript,
                                                         NULL);

          gaze_test_server_queue_reply_file (fixture->server, 200, path, NULL);
        }
      else if (e->body != NULL)
        {
          gaze_test_server_queue_reply (fixture->server, 200, "text/event-stream", e->body, NULL);
        }

      g_test_message ("%s", e->name);
      gaze_test_run_gaze (&run, GAZE_TEST_SERVER_KEY, NULL, argv);
      g_assert_cmpint (run.status, ==, e->status);
      g_assert_cmpstr (run.out, ==, e->out);
      g_assert_cmpint (count_lines (run.err), ==, 1);
      if (strstr (run.err, e->words) == NULL)
        g_error ("%s: “%s” does not say “%s”", e->name, run.err, e->words);
      g_assert_null (strstr (run.err, "CRITICAL"));
      gaze_test_run_clear (&run);
    }
}

static void
test_cli_key_never_printed (Fixture       *fixture,
                            gconstpointer  data)
{
  const char *ok[] = { "--ask", "What?", "--endpoint", fixture->endpoint, "--deployment", "gpt4v",
                       fixture->photo, NULL };
  const char *wrong_deployment[] = { "--ask", "What?", "--endpoint", fixture->endpoint,
                                     "--deployment", "missing", NULL };
  const char *debug_all[] = { "G_MESSAGES_DEBUG=all", NULL };
  GazeTestRun run;

  gaze_test_run_gaze (&run, GAZE_TEST_SERVER_KEY, debug_all, ok);
  g_assert_cmpint (run.status, ==, 0);
  if (strstr (run.err, "api-key: [REDACTED]") == NULL)
    g_error ("the debug log shows no redacted key:\n%s", run.err);
  g_assert_null (strstr (run.out, GAZE_TEST_SERVER_KEY));
  g_assert_null (strstr (run.err, GAZE_TEST_SERVER_KEY));
  gaze_test_run_clear (&run);

  gaze_test_run_gaze (&run, GAZE_TEST_SERVER_KEY, debug_all, wrong_deployment);
  g_assert_cmpint (run.status, ==, 5);
  g_assert_null (strstr (run.out, GAZE_TEST_SERVER_KEY));
  g_assert_null (strstr (run.err, GAZE_TEST_SERVER_KEY));
  gaze_test_run_clear (&run);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  if (g_getenv ("GAZE_BINARY") == NULL)
    {
      g_test_skip ("GAZE_BINARY is not set; run this through meson test");
      return g_test_run ();
    }

#define ADD(name, func) \
  g_test_add ("/cli/" name, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("answer", test_cli_answer);
  ADD ("target-uri", test_cli_target_uri);
  ADD ("failures", test_cli_failures);
  ADD ("usage", test_cli_usage);
  ADD ("key-never-printed", test_cli_key_never_printed);
  ADD ("stream", test_cli_stream);
  ADD ("stream-ends", test_cli_stream_ends);
#undef ADD

  return g_test_run ();
}
