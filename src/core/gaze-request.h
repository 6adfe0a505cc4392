/* gaze-request.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "gaze-image.h"

G_BEGIN_DECLS

#define GAZE_TYPE_REQUEST (gaze_request_get_type ())

G_DECLARE_FINAL_TYPE (GazeRequest, gaze_request, GAZE, REQUEST, GObject)

#define GAZE_DEFAULT_MAX_TOKENS 800

/* Azure takes a request body of up to 20 MB, read here as the smaller
 * 20 000 000 bytes. */
#define GAZE_MAX_REQUEST_SIZE   (20 * 1000 * 1000)

gboolean     gaze_api_version_is_legacy         (const char  *api_version);

GazeRequest *gaze_request_new                   (const char  *api_version);
const char  *gaze_request_get_api_version       (GazeRequest *self);
void         gaze_request_set_system_prompt     (GazeRequest *self,
                                                 const char  *system_prompt);
void         gaze_request_set_max_tokens        (GazeRequest *self,
                                                 guint        max_tokens);
void         gaze_request_set_stream            (GazeRequest *self,
                                                 gboolean     stream);
gboolean     gaze_request_get_stream            (GazeRequest *self);
void         gaze_request_add_user_message      (GazeRequest *self,
                                                 const char  *text,
                                                 GPtrArray   *images);
void         gaze_request_add_user_message_full (GazeRequest *self,
                                                 const char  *text,
                                                 GPtrArray   *images,
                                                 guint        n_left_out);
void         gaze_request_add_assistant_message (GazeRequest *self,
                                                 const char  *text);
guint        gaze_request_get_n_images          (GazeRequest *self);
GBytes      *gaze_request_to_bytes              (GazeRequest *self);
void         gaze_request_to_bytes_async        (GazeRequest         *self,
                                                 GCancellable        *cancellable,
                                                 GAsyncReadyCallback  callback,
                                                 gpointer             user_data);
GBytes      *gaze_request_to_bytes_finish       (GazeRequest         *self,
                                                 GAsyncResult        *result,
                                                 GError             **error);
gsize        gaze_request_estimate_size         (GazeRequest *self);
gboolean     gaze_request_check                 (GazeRequest *self,
                                                 GError     **error);

G_END_DECLS
