/* gaze-json.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Deeper nesting than any reply of the service has; json-glib parses
 * recursively, so a body nested a hundred thousand levels deep would
 * exhaust the stack.
 */
#define GAZE_JSON_MAX_DEPTH 64

gboolean  gaze_json_check_depth     (const char *data,
                                     gsize       size,
                                     guint       max_depth);
JsonNode *gaze_json_parse_untrusted (JsonParser *parser,
                                     const char *data,
                                     gsize       size);

/* Members of untrusted objects, each checked for its type: absent or of
 * another type reads as NULL, FALSE or -1. @object may be NULL.
 */
JsonNode   *gaze_json_get_member  (JsonObject   *object,
                                   const char   *name,
                                   JsonNodeType  type);
JsonObject *gaze_json_get_object  (JsonObject   *object,
                                   const char   *name);
JsonArray  *gaze_json_get_array   (JsonObject   *object,
                                   const char   *name);
const char *gaze_json_get_string  (JsonObject   *object,
                                   const char   *name);
gboolean    gaze_json_get_boolean (JsonObject   *object,
                                   const char   *name);
gint64      gaze_json_get_count   (JsonObject   *object,
                                   const char   *name);

G_END_DECLS
