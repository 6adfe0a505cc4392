/* gaze-client-error.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define GAZE_CLIENT_ERROR (gaze_client_error_quark ())

/* Each code names what the person has to fix, not what the wire said. */
typedef enum
{
  GAZE_CLIENT_ERROR_UNAUTHORIZED,          /* 401: the key is wrong or expired */
  GAZE_CLIENT_ERROR_FORBIDDEN,             /* 403: the key has no access */
  GAZE_CLIENT_ERROR_DEPLOYMENT_NOT_FOUND,  /* 404 DeploymentNotFound */
  GAZE_CLIENT_ERROR_ENDPOINT_NOT_FOUND,    /* 404 anything else */
  GAZE_CLIENT_ERROR_RATE_LIMITED,          /* 429 */
  GAZE_CLIENT_ERROR_CONTENT_FILTERED,      /* 400 content_filter, or a withheld answer */
  GAZE_CLIENT_ERROR_BAD_REQUEST,           /* 400 anything else */
  GAZE_CLIENT_ERROR_SERVER_ERROR,          /* 5xx */
  GAZE_CLIENT_ERROR_HTTP,                  /* any other status */
  GAZE_CLIENT_ERROR_NETWORK,               /* DNS, refused, reset */
  GAZE_CLIENT_ERROR_TLS,                   /* the connection is not secure */
  GAZE_CLIENT_ERROR_TIMEOUT,               /* the service did not answer */
  GAZE_CLIENT_ERROR_UNREADABLE_REPLY,      /* not JSON, truncated, wrong types */
} GazeClientError;

GQuark      gaze_client_error_quark              (void);
gint64      gaze_client_parse_retry_after        (const char      *retry_after,
                                                  const char      *retry_after_ms,
                                                  const char      *message,
                                                  GDateTime       *now);
gint64      gaze_client_error_get_retry_after_ms (const GError    *error);
const char *gaze_client_error_get_request_id     (const GError    *error);
GError     *gaze_client_error_new_from_http      (guint            status,
                                                  GBytes          *body,
                                                  const char      *deployment,
                                                  const char      *retry_after,
                                                  const char      *retry_after_ms,
                                                  const char      *request_id);
#define GAZE_CLIENT_MAX_RETRIES 2

gboolean    gaze_client_error_should_retry       (const GError    *error,
                                                  guint            attempt,
                                                  gint64          *delay_ms);
char       *gaze_client_format_wait              (gint64           ms);
char       *gaze_client_describe_filter_results  (JsonObject      *results);
char       *gaze_client_describe_error_filter    (JsonObject      *error_object);
GError     *gaze_client_error_new_literal        (GazeClientError  code,
                                                  const char      *message,
                                                  const char      *request_id);
GError     *gaze_client_error_new_unreadable     (const char      *request_id);

G_END_DECLS
