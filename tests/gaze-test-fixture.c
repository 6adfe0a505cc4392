/* gaze-test-fixture.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * What the tests of the client share: the fake Azure with a client
 * pointed at it, a question to ask, and the main loop run until the
 * answer is in; and the real `gaze --ask` run as a script would run it.
 */

#define G_LOG_DOMAIN "gaze-test-fixture"

#include "config.h"

#include <glib/gi18n.h>

#include "gaze-test-fixture.h"

#include <string.h>

void
gaze_test_fixture_set_up (GazeTestFixture *fixture,
                          gconstpointer    data)
{
  g_autofree char *url = NULL;

  fixture->server = gaze_test_server_new ();
  fixture->client = gaze_client_new ();
  url = gaze_test_server_dup_endpoint (fixture->server);
  fixture->endpoint = gaze_endpoint_resolve (url, GAZE_TEST_SERVER_DEPLOYMENT, NULL, NULL);
  g_assert_nonnull (fixture->endpoint);
}

/* Nothing a test did may keep the client or the server alive. */
void
gaze_test_fixture_tear_down (GazeTestFixture *fixture,
                             gconstpointer    data)
{
  g_clear_pointer (&fixture->endpoint, gaze_endpoint_free);
  g_assert_finalize_object (fixture->client);
  g_assert_finalize_object (fixture->server);
}

/**
 * gaze_test_request_new:
 * @question: the user's text
 * @image: (nullable): a photo to send with it
 *
 * Returns: (transfer full): a request of one question, in the default
 *   api-version
 */
GazeRequest *
gaze_test_request_new (const char *question,
                       GazeImage  *image)
{
  g_autoptr(GPtrArray) images = g_ptr_array_new ();
  GazeRequest *request = gaze_request_new (GAZE_DEFAULT_API_VERSION);

  if (image != NULL)
    g_ptr_array_add (images, image);
  gaze_request_add_user_message (request, question, images);

  return request;
}

static void
delta_cb (const char *delta,
          gpointer    user_data)
{
  GazeTestResult *result = user_data;

  /* Never after the answer, never empty, always whole characters. */
  g_assert_false (result->done);
  g_assert_nonnull (delta);
  g_assert_cmpstr (delta, !=, "");
  g_assert_true (g_utf8_validate (delta, -1, NULL));

  g_ptr_array_add (result->deltas, g_strdup (delta));
  g_string_append (result->text, delta);

  if (result->cancel_on_first_delta != NULL)
    g_cancellable_cancel (result->cancel_on_first_delta);
}

static void
delta_destroy_cb (gpointer user_data)
{
  GazeTestResult *result = user_data;

  /* Once, when the request is over. */
  g_assert_true (result->done);
  g_assert_false (result->delta_data_freed);
  result->delta_data_freed = TRUE;
}

/**
 * gaze_test_result_finish_cb:
 *
 * The callback of gaze_client_complete_async() and
 * gaze_client_stream_async(), with a #GazeTestResult as its data.
 */
void
gaze_test_result_finish_cb (GObject      *object,
                            GAsyncResult *async_result,
                            gpointer      user_data)
{
  GazeTestResult *result = user_data;
  GazeClient *client = GAZE_CLIENT (object);

  g_assert_false (result->done);

  if (g_async_result_is_tagged (async_result, gaze_client_stream_async))
    result->reply = gaze_client_stream_finish (client, async_result, &result->error);
  else
    result->reply = gaze_client_complete_finish (client, async_result, &result->error);

  /* A reply or an error, never both. */
  g_assert_true ((result->reply == NULL) != (result->error == NULL));
  result->done = TRUE;
}

/**
 * gaze_test_result_start:
 * @result: where the outcome goes; what it held before is forgotten
 * @client: the client to ask
 * @endpoint: where to send @request
 * @api_key: (nullable): the key to send, or %NULL for the one the fake
 *   Azure accepts
 * @request: what to ask
 * @stream: whether to ask for a streamed answer, whose pieces @result
 *   keeps, or for a whole one
 * @cancellable: (nullable): a #GCancellable
 *
 * Starts asking; gaze_test_result_wait() runs the main loop until the
 * answer is in.
 */
void
gaze_test_result_start (GazeTestResult     *result,
                        GazeClient         *client,
                        const GazeEndpoint *endpoint,
                        const char         *api_key,
                        GazeRequest        *request,
                        gboolean            stream,
                        GCancellable       *cancellable)
{
  memset (result, 0, sizeof *result);
  result->streamed = stream;
  result->deltas = g_ptr_array_new_with_free_func (g_free);
  result->text = g_string_new (NULL);

  if (api_key == NULL)
    api_key = GAZE_TEST_SERVER_KEY;

  if (stream)
    gaze_client_stream_async (client, endpoint, api_key, request,
                              delta_cb, result, delta_destroy_cb,
                              cancellable, gaze_test_result_finish_cb, result);
  else
    gaze_client_complete_async (client, endpoint, api_key, request,
                                cancellable, gaze_test_result_finish_cb, result);
}

void
gaze_test_result_wait (GazeTestResult *result)
{
  while (!result->done || (result->streamed && !result->delta_data_freed))
    g_main_context_iteration (NULL, TRUE);

  /* What a streamed reply holds is what the pieces said. */
  if (result->streamed && result->reply != NULL)
    g_assert_cmpstr (result->reply->content, ==, result->text->str);
}

void
gaze_test_result_clear (GazeTestResult *result)
{
  g_clear_pointer (&result->reply, gaze_reply_free);
  g_clear_error (&result->error);
  g_clear_pointer (&result->deltas, g_ptr_array_unref);
  if (result->text != NULL)
    g_string_free (g_steal_pointer (&result->text), TRUE);
}

/* Asks the fixture's server with the right key, and waits for the whole
 * answer.
 */
void
gaze_test_fixture_complete (GazeTestFixture *fixture,
                            GazeRequest     *request,
                            GazeTestResult  *result)
{
  gaze_test_result_start (result, fixture->client, fixture->endpoint, NULL, request, FALSE, NULL);
  gaze_test_result_wait (result);
}

/* The same, streamed: @result gets the pieces too. */
void
gaze_test_fixture_stream (GazeTestFixture *fixture,
                          GazeRequest     *request,
                          GazeTestResult  *result)
{
  gaze_test_result_start (result, fixture->client, fixture->endpoint, NULL, request, TRUE, NULL);
  gaze_test_result_wait (result);
}

static gboolean
cancel_later_cb (gpointer user_data)
{
  g_cancellable_cancel (G_CANCELLABLE (user_data));

  return G_SOURCE_REMOVE;
}

/* Stop pressed while the main loop turns, @ms from now. */
void
gaze_test_cancel_later (GCancellable *cancellable,
                        guint         ms)
{
  g_timeout_add_full (G_PRIORITY_DEFAULT, ms, cancel_later_cb,
                      g_object_ref (cancellable), g_object_unref);
}

static void
communicate_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  GSubprocess *process = G_SUBPROCESS (object);
  GazeTestRun *run = user_data;
  g_autoptr(GError) error = NULL;

  g_assert (G_IS_SUBPROCESS (process));
  g_assert (run != NULL);

  g_subprocess_communicate_utf8_finish (process, result, &run->out, &run->err, &error);
  g_assert_no_error (error);

  /* A crash, or a sanitizer's report, is shown as it is. */
  if (!g_subprocess_get_if_exited (process))
    g_error ("gaze ended with signal %d; it printed:\n%s",
             g_subprocess_get_if_signaled (process) ? g_subprocess_get_term_sig (process) : 0,
             run->err != NULL ? run->err : "");

  run->status = g_subprocess_get_exit_status (process);
}

/* Runs the binary named by GAZE_BINARY with @argv and waits for it while
 * this process's main loop turns, so that a server in it can answer. The
 * key goes in through the environment only, never through argv. @env
 * holds further NAME=VALUE settings, or is %NULL.
 */
void
gaze_test_run_gaze (GazeTestRun        *run,
                    const char         *key,
                    const char * const *env,
                    const char * const *argv)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  const char *binary = g_getenv ("GAZE_BINARY");

  g_assert_nonnull (binary);

  memset (run, 0, sizeof *run);
  run->status = -1;

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                        G_SUBPROCESS_FLAGS_STDERR_PIPE);
  /* The sentences are checked in English, whatever this machine's locale. */
  g_subprocess_launcher_setenv (launcher, "LC_ALL", "C.UTF-8", TRUE);
  g_subprocess_launcher_unsetenv (launcher, "LANGUAGE");
  g_subprocess_launcher_unsetenv (launcher, "G_MESSAGES_DEBUG");
  g_subprocess_launcher_setenv (launcher, "AZURE_OPENAI_API_KEY", key ? key : "", TRUE);

  for (guint i = 0; env != NULL && env[i] != NULL; i++)
    {
      g_auto(GStrv) pair = g_strsplit (env[i], "=", 2);

      g_assert_nonnull (pair[1]);
      g_subprocess_launcher_setenv (launcher, pair[0], pair[1], TRUE);
    }

  g_ptr_array_add (args, (gpointer)binary);
  for (guint i = 0; argv[i] != NULL; i++)
    g_ptr_array_add (args, (gpointer)argv[i]);
  g_ptr_array_add (args, NULL);

  process = g_subprocess_launcher_spawnv (launcher, (const char * const *)args->pdata, &error);
  g_assert_no_error (error);

  g_subprocess_communicate_utf8_async (process, NULL, NULL, communicate_cb, run);
  while (run->status == -1)
    g_main_context_iteration (NULL, TRUE);
}

void
gaze_test_run_clear (GazeTestRun *run)
{
  g_clear_pointer (&run->out, g_free);
  g_clear_pointer (&run->err, g_free);
}
