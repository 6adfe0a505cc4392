/* gaze-test-fixture.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "gaze-client.h"
#include "gaze-test-server.h"

G_BEGIN_DECLS

/* A fake Azure on loopback and a client pointed at it, for g_test_add(). */
typedef struct
{
  GazeTestServer *server;
  GazeClient     *client;
  GazeEndpoint   *endpoint;
} GazeTestFixture;

/* How one request ended, as the main loop brings it. */
typedef struct
{
  gboolean      done;
  GazeReply    *reply;
  GError       *error;

  /* A streamed answer's pieces, one by one and joined. */
  gboolean      streamed;
  gboolean      delta_data_freed;
  GPtrArray    *deltas;
  GString      *text;

  /* Cancelled at the first piece, to stop in the middle of a stream. */
  GCancellable *cancel_on_first_delta;
} GazeTestResult;

void         gaze_test_fixture_set_up    (GazeTestFixture    *fixture,
                                          gconstpointer       data);
void         gaze_test_fixture_tear_down (GazeTestFixture    *fixture,
                                          gconstpointer       data);
void         gaze_test_fixture_complete  (GazeTestFixture    *fixture,
                                          GazeRequest        *request,
                                          GazeTestResult     *result);
void         gaze_test_fixture_stream    (GazeTestFixture    *fixture,
                                          GazeRequest        *request,
                                          GazeTestResult     *result);

GazeRequest *gaze_test_request_new       (const char         *question,
                                          GazeImage          *image);

void         gaze_test_result_start      (GazeTestResult     *result,
                                          GazeClient         *client,
                                          const GazeEndpoint *endpoint,
                                          const char         *api_key,
                                          GazeRequest        *request,
                                          gboolean            stream,
                                          GCancellable       *cancellable);
void         gaze_test_result_finish_cb  (GObject            *object,
                                          GAsyncResult       *async_result,
                                          gpointer            user_data);
void         gaze_test_result_wait       (GazeTestResult     *result);
void         gaze_test_result_clear      (GazeTestResult     *result);

void         gaze_test_cancel_later      (GCancellable       *cancellable,
                                          guint               ms);

/* How one run of `gaze --ask` ended. */
typedef struct
{
  int   status;
  char *out;
  char *err;
} GazeTestRun;

void         gaze_test_run_gaze          (GazeTestRun        *run,
                                          const char         *key,
                                          const char * const *env,
                                          const char * const *argv);
void         gaze_test_run_clear         (GazeTestRun        *run);

G_END_DECLS
