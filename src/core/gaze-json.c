/* gaze-json.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "gaze-json"

#include "config.h"

#include "gaze-json.h"

/**
 * gaze_json_check_depth:
 * @data: JSON text, not necessarily valid
 * @size: its length
 * @max_depth: the deepest nesting of arrays and objects allowed
 *
 * Scans @data without parsing it, skipping strings, and tells whether its
 * arrays and objects nest at most @max_depth deep.
 *
 * Returns: %TRUE if @data is shallow enough to hand to json-glib
 */
gboolean
gaze_json_check_depth (const char *data,
                       gsize       size,
                       guint       max_depth)
{
  gboolean in_string = FALSE;
  guint depth = 0;

  g_return_val_if_fail (data != NULL || size == 0, FALSE);

  for (gsize i = 0; i < size; i++)
    {
      char c = data[i];

      if (in_string)
        {
          if (c == '\\')
            i++;
          else if (c == '"')
            in_string = FALSE;
          continue;
        }

      switch (c)
        {
        case '"':
          in_string = TRUE;
          break;

        case '[':
        case '{':
          if (++depth > max_depth)
            return FALSE;
          break;

        case ']':
        case '}':
          if (depth > 0)
            depth--;
          break;

        default:
          break;
        }
    }

  return TRUE;
}

/**
 * gaze_json_parse_untrusted:
 * @parser: a parser, which owns the tree afterwards
 * @data: JSON text from the network
 * @size: its length
 *
 * Parses @data unless it is empty, malformed or nested too deeply.
 *
 * Returns: (transfer none) (nullable): the root node, or %NULL
 */
JsonNode *
gaze_json_parse_untrusted (JsonParser *parser,
                           const char *data,
                           gsize       size)
{
  g_return_val_if_fail (JSON_IS_PARSER (parser), NULL);

  if (data == NULL || size == 0 || size > G_MAXSSIZE)
    return NULL;

  if (!gaze_json_check_depth (data, size, GAZE_JSON_MAX_DEPTH))
    return NULL;

  if (!json_parser_load_from_data (parser, data, (gssize)size, NULL))
    return NULL;

  return json_parser_get_root (parser);
}

JsonNode *
gaze_json_get_member (JsonObject   *object,
                      const char   *name,
                      JsonNodeType  type)
{
  JsonNode *node;

  if (object == NULL || !(node = json_object_get_member (object, name)))
    return NULL;

  return JSON_NODE_TYPE (node) == type ? node : NULL;
}

JsonObject *
gaze_json_get_object (JsonObject *object,
                      const char *name)
{
  JsonNode *node = gaze_json_get_member (object, name, JSON_NODE_OBJECT);

  return node ? json_node_get_object (node) : NULL;
}

JsonArray *
gaze_json_get_array (JsonObject *object,
                     const char *name)
{
  JsonNode *node = gaze_json_get_member (object, name, JSON_NODE_ARRAY);

  return node ? json_node_get_array (node) : NULL;
}

const char *
gaze_json_get_string (JsonObject *object,
                      const char *name)
{
  JsonNode *node = gaze_json_get_member (object, name, JSON_NODE_VALUE);

  if (node == NULL || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;

  return json_node_get_string (node);
}

gboolean
gaze_json_get_boolean (JsonObject *object,
                       const char *name)
{
  JsonNode *node = gaze_json_get_member (object, name, JSON_NODE_VALUE);

  return node && json_node_get_value_type (node) == G_TYPE_BOOLEAN && json_node_get_boolean (node);
}

/**
 * gaze_json_get_count:
 *
 * Returns: a whole number that is not negative, or -1
 */
gint64
gaze_json_get_count (JsonObject *object,
                     const char *name)
{
  JsonNode *node = gaze_json_get_member (object, name, JSON_NODE_VALUE);

  if (node == NULL || json_node_get_value_type (node) != G_TYPE_INT64)
    return -1;

  return MAX (-1, json_node_get_int (node));
}
