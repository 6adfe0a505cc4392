/* gaze-fake-azure.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Serves the test server on its own, for trying the app by hand and for
 * tests that run the app as a separate process. It prints its endpoint
 * on the first line of stdout and serves until SIGTERM or SIGINT.
 */

#define G_LOG_DOMAIN "gaze-fake-azure"

#include "config.h"

#include <glib/gi18n.h>

#include "gaze-test-server.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include <glib-unix.h>

static gboolean
quit_cb (gpointer user_data)
{
  GMainLoop *loop = user_data;

  g_main_loop_quit (loop);

  return G_SOURCE_CONTINUE;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GazeTestServer) server = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *endpoint = NULL;
  int port = 0;
  int delay = 0;
  g_auto(GStrv) answer_paths = NULL;
  int rate_limited = 0;
  guint sigterm_id;
  guint sigint_id;
  const GOptionEntry entries[] = {
    { "port", 'p', 0, G_OPTION_ARG_INT, &port, "Port to listen on (default: any free one)", "N" },
    { "delay", 'd', 0, G_OPTION_ARG_INT, &delay, "Wait this long before each answer", "MS" },
    { "answer", 'a', 0, G_OPTION_ARG_FILENAME_ARRAY, &answer_paths,
      "Answer with the text of FILE; given more than once, the files take turns", "FILE" },
    { "rate-limited", 'r', 0, G_OPTION_ARG_INT, &rate_limited,
      "Answer the first N requests with 429 and Retry-After: 20", "N" },
    G_OPTION_ENTRY_NULL
  };

  context = g_option_context_new ("- a loopback server that behaves like Azure OpenAI");
  g_option_context_set_summary (context,
                                "Listens on 127.0.0.1, prints its endpoint, and serves until "
                                "SIGTERM or SIGINT.\n\n"
                                "Deployment: " GAZE_TEST_SERVER_DEPLOYMENT "\n"
                                "api-key: " GAZE_TEST_SERVER_KEY " (a made-up test key)");
  g_option_context_add_main_entries (context, entries, NULL);

  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return EXIT_FAILURE;
    }

  if (port < 0 || port > G_MAXUINT16 || delay < 0)
    {
      g_printerr ("The port must be within 0-65535 and the delay not negative\n");
      return EXIT_FAILURE;
    }

  server = gaze_test_server_new_for_port (port, &error);
  if (server == NULL)
    {
      g_printerr ("Cannot listen on 127.0.0.1:%d: %s\n", port, error->message);
      return EXIT_FAILURE;
    }

  gaze_test_server_set_delay (server, delay);

  for (int i = 0; i < rate_limited; i++)
    {
      static const char * const headers[] = { "Retry-After: 20", NULL };

      gaze_test_server_queue_reply (server, 429, "application/json",
                                    "{\"error\":{\"code\":\"429\","
                                    "\"message\":\"Requests to the ChatCompletions_Create "
                                    "Operation have exceeded call rate limit of your current "
                                    "OpenAI S0 pricing tier. Please retry after 20 seconds.\"}}",
                                    headers);
    }

  if (answer_paths != NULL)
    {
      g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
      g_auto(GStrv) answers = NULL;

      for (guint i = 0; answer_paths[i] != NULL; i++)
        {
          g_autofree char *answer = NULL;

          if (!g_file_get_contents (answer_paths[i], &answer, NULL, &error))
            {
              g_printerr ("%s\n", error->message);
              return EXIT_FAILURE;
            }
          g_strv_builder_add (builder, answer);
        }

      answers = g_strv_builder_end (builder);
      gaze_test_server_set_answers (server, (const char * const *)answers);
    }

  /* The endpoint line is what a test waits for, so it must not sit in a
   * buffer when stdout is a pipe.
   */
  endpoint = gaze_test_server_dup_endpoint (server);
  g_print ("%s\n", endpoint);
  fflush (stdout);

  loop = g_main_loop_new (NULL, FALSE);
  sigterm_id = g_unix_signal_add (SIGTERM, quit_cb, loop);
  sigint_id = g_unix_signal_add (SIGINT, quit_cb, loop);

  g_main_loop_run (loop);

  g_source_remove (sigterm_id);
  g_source_remove (sigint_id);

  return EXIT_SUCCESS;
}
