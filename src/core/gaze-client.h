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

GazeClient *gaze_client_new             (void);
void        gaze_client_complete_async  (GazeClient          *self,
                                         const GazeEndpoint  *endpoint,
                                         const char          *api_key,
                                         GazeRequest         *request,
                                         GCancellable        *cancellable,
                                         GAsyncReadyCallback  callback,
                                         gpointer             user_data);
GazeReply  *gaze_client_complete_finish (GazeClient          *self,
                                         GAsyncResult        *result,
                                         GError             **error);

G_END_DECLS
