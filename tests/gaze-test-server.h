/* gaze-test-server.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* The only key the server accepts in the api-key header. It is a made-up
 * value for tests, not a secret.
 */
#define GAZE_TEST_SERVER_KEY "gz-test-3f9a61c0e7b24d58"

/* The only deployment the server knows. */
#define GAZE_TEST_SERVER_DEPLOYMENT "gpt4v"

#define GAZE_TYPE_TEST_SERVER (gaze_test_server_get_type ())

G_DECLARE_FINAL_TYPE (GazeTestServer, gaze_test_server, GAZE, TEST_SERVER, GObject)

/* With nothing queued, the server answers like Azure OpenAI: only
 * POST /openai/deployments/gpt4v/chat/completions?api-version=… with the
 * right api-key and a valid JSON body gets a 200, whose content says what
 * arrived, e.g. "I see 1 image (512 × 341) and your question: “…”" (one
 * token a word; past max_tokens the answer is cut and finish_reason is
 * "length"). With "stream": true the same answer comes as Server-Sent
 * Events in several chunks. Every answer carries apim-request-id and
 * x-request-id. The getters describe the last request, whatever it got.
 */

GazeTestServer *gaze_test_server_new                        (void);
GazeTestServer *gaze_test_server_new_for_port               (guint                port,
                                                             GError             **error);
GazeTestServer *gaze_test_server_new_tls                    (GTlsCertificate     *certificate,
                                                             GError             **error);
guint           gaze_test_server_get_port                   (GazeTestServer      *self);
char           *gaze_test_server_dup_endpoint               (GazeTestServer      *self);

void            gaze_test_server_queue_reply                (GazeTestServer      *self,
                                                             guint                status,
                                                             const char          *content_type,
                                                             const char          *body,
                                                             const char * const  *headers);
void            gaze_test_server_queue_reply_file           (GazeTestServer      *self,
                                                             guint                status,
                                                             const char          *path,
                                                             const char * const  *headers);
void            gaze_test_server_queue_chunked_reply        (GazeTestServer      *self,
                                                             guint                status,
                                                             const char          *content_type,
                                                             GBytes              *piece,
                                                             guint                n_pieces);
void            gaze_test_server_queue_truncated            (GazeTestServer      *self);
void            gaze_test_server_set_answers        (GazeTestServer      *self,
                                                     const char * const  *answers);
void            gaze_test_server_set_delay                  (GazeTestServer      *self,
                                                             guint                ms);
void            gaze_test_server_set_chunk_interval         (GazeTestServer      *self,
                                                             guint                ms);

guint           gaze_test_server_get_n_started              (GazeTestServer      *self);
guint           gaze_test_server_get_n_requests             (GazeTestServer      *self);
const char     *gaze_test_server_get_last_path              (GazeTestServer      *self);
const char     *gaze_test_server_get_last_api_version       (GazeTestServer      *self);
const char     *gaze_test_server_get_last_content_type      (GazeTestServer      *self);
const char     *gaze_test_server_get_last_header            (GazeTestServer      *self,
                                                             const char          *name);
gboolean        gaze_test_server_get_last_key_ok            (GazeTestServer      *self);
gboolean        gaze_test_server_get_last_had_authorization (GazeTestServer      *self);
GBytes         *gaze_test_server_get_last_raw_body          (GazeTestServer      *self);
guint64         gaze_test_server_get_last_answer_written    (GazeTestServer      *self);
gboolean        gaze_test_server_get_last_answer_done       (GazeTestServer      *self);
JsonNode       *gaze_test_server_get_last_body              (GazeTestServer      *self);
guint           gaze_test_server_get_last_n_images          (GazeTestServer      *self);
void            gaze_test_server_get_last_image_size        (GazeTestServer      *self,
                                                             guint                i,
                                                             int                 *width,
                                                             int                 *height);
const char     *gaze_test_server_get_last_image_detail      (GazeTestServer      *self,
                                                             guint                i);
const char     *gaze_test_server_get_last_image_mime        (GazeTestServer      *self,
                                                             guint                i);
char           *gaze_test_server_dup_last_user_text         (GazeTestServer      *self);
guint           gaze_test_server_get_last_n_messages        (GazeTestServer      *self);
gint64          gaze_test_server_get_last_max_tokens        (GazeTestServer      *self);
gboolean        gaze_test_server_get_last_stream            (GazeTestServer      *self);

G_END_DECLS
