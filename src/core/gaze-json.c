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
