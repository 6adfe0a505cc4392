/* gaze-endpoint.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define GAZE_DEFAULT_API_VERSION "2024-10-21"

#define GAZE_TYPE_ENDPOINT (gaze_endpoint_get_type ())
#define GAZE_ENDPOINT_ERROR (gaze_endpoint_error_quark ())

typedef enum
{
  GAZE_ENDPOINT_ERROR_EMPTY,
  GAZE_ENDPOINT_ERROR_INVALID,
  GAZE_ENDPOINT_ERROR_INSECURE,
  GAZE_ENDPOINT_ERROR_NO_DEPLOYMENT,
} GazeEndpointError;

/* Where requests go. base_url never ends in a slash. deployment and
 * api_version are NULL when the text parsed did not name them.
 */
typedef struct _GazeEndpoint
{
  char *base_url;
  char *deployment;
  char *api_version;
} GazeEndpoint;

GQuark        gaze_endpoint_error_quark      (void);
GType         gaze_endpoint_get_type         (void) G_GNUC_CONST;
GazeEndpoint *gaze_endpoint_parse            (const char          *text,
                                              GError             **error);
GazeEndpoint *gaze_endpoint_resolve          (const char          *text,
                                              const char          *deployment,
                                              const char          *api_version,
                                              GError             **error);
GazeEndpoint *gaze_endpoint_copy             (const GazeEndpoint  *self);
void          gaze_endpoint_free             (GazeEndpoint        *self);
char         *gaze_endpoint_dup_chat_uri     (const GazeEndpoint  *self);
gboolean      gaze_endpoint_host_is_loopback (const char          *host);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GazeEndpoint, gaze_endpoint_free)

G_END_DECLS
