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

gboolean gaze_json_check_depth     (const char  *data,
                                    gsize        size,
                                    guint        max_depth);
JsonNode *gaze_json_parse_untrusted (JsonParser *parser,
                                     const char *data,
                                     gsize       size);

G_END_DECLS
