/* gaze-client.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "gaze-client-error.h"
#include "gaze-endpoint.h"
#include "gaze-reply.h"
#include "gaze-request.h"

G_BEGIN_DECLS

#define GAZE_TYPE_CLIENT (gaze_client_get_type ())

G_DECLARE_FINAL_TYPE (GazeClient, gaze_client, GAZE, CLIENT, GObject)

/**
 * GazeClientDeltaFunc:
 * @delta: text of the answer that has just arrived, valid during the call
 * @user_data: the data given with the function
 *
 * Receives the answer piece by piece while it streams in.
 */
typedef void (*GazeClientDeltaFunc) (const char *delta,
                                     gpointer    user_data);

GazeClient *gaze_client_new                     (void);
guint       gaze_client_get_timeout             (GazeClient          *self);
void        gaze_client_set_timeout             (GazeClient          *self,
                                                 guint                seconds);
guint       gaze_client_get_stream_idle_timeout (GazeClient          *self);
void        gaze_client_set_stream_idle_timeout (GazeClient          *self,
                                                 guint                ms);
void        gaze_client_complete_async          (GazeClient          *self,
                                                 const GazeEndpoint  *endpoint,
                                                 const char          *api_key,
                                                 GazeRequest         *request,
                                                 GCancellable        *cancellable,
                                                 GAsyncReadyCallback  callback,
                                                 gpointer             user_data);
GazeReply  *gaze_client_complete_finish         (GazeClient          *self,
                                                 GAsyncResult        *result,
                                                 GError             **error);
void        gaze_client_stream_async            (GazeClient          *self,
                                                 const GazeEndpoint  *endpoint,
                                                 const char          *api_key,
                                                 GazeRequest         *request,
                                                 GazeClientDeltaFunc  delta_func,
                                                 gpointer             delta_data,
                                                 GDestroyNotify       delta_destroy,
                                                 GCancellable        *cancellable,
                                                 GAsyncReadyCallback  callback,
                                                 gpointer             user_data);
GazeReply  *gaze_client_stream_finish           (GazeClient          *self,
                                                 GAsyncResult        *result,
                                                 GError             **error);

/* Photos dragged from a web browser come as their address. */
#define GAZE_CLIENT_MAX_DOWNLOAD_SIZE (50 * 1000 * 1000)

void        gaze_client_download_async          (GazeClient          *self,
                                                 const char          *uri,
                                                 GCancellable        *cancellable,
                                                 GAsyncReadyCallback  callback,
                                                 gpointer             user_data);
GBytes     *gaze_client_download_finish         (GazeClient          *self,
                                                 GAsyncResult        *result,
                                                 GError             **error);

G_END_DECLS
