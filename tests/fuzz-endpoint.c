/* fuzz-endpoint.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Whatever is pasted into the endpoint field: the parser takes it or says
 * why not, and what it takes makes a URI that libsoup can send to.
 */

#include "config.h"

#include <stdint.h>
#include <string.h>

#include "gaze-endpoint.h"

int LLVMFuzzerTestOneInput (const uint8_t *data,
                            size_t         size);

static void
check_endpoint (GazeEndpoint *endpoint)
{
  g_autoptr(GazeEndpoint) copy = NULL;

  g_assert_nonnull (endpoint->base_url);
  g_assert_false (g_str_has_suffix (endpoint->base_url, "/"));

  copy = gaze_endpoint_copy (endpoint);
  g_assert_cmpstr (copy->base_url, ==, endpoint->base_url);

  if (endpoint->deployment != NULL)
    {
      g_autofree char *uri = gaze_endpoint_dup_chat_uri (endpoint);

      g_assert_nonnull (uri);
      g_uri_is_valid (uri, G_URI_FLAGS_NONE, NULL);
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  const uint8_t *split = memchr (data, '\t', size);
  g_autofree char *text = g_strndup ((const char *)data, split ? (gsize)(split - data) : size);
  g_autofree char *deployment = split
                                ? g_strndup ((const char *)split + 1, size - (split + 1 - data))
                                : NULL;
  g_autoptr(GazeEndpoint) parsed = NULL;
  g_autoptr(GazeEndpoint) resolved = NULL;
  g_autoptr(GError) error = NULL;

  if ((parsed = gaze_endpoint_parse (text, &error)))
    check_endpoint (parsed);
  else
    g_assert_true (error != NULL && error->domain == GAZE_ENDPOINT_ERROR);
  g_clear_error (&error);

  if ((resolved = gaze_endpoint_resolve (text,
                                         deployment ? deployment : "gpt4v",
                                         deployment,
                                         &error)))
    {
      g_assert_nonnull (resolved->deployment);
      g_assert_nonnull (resolved->api_version);
      check_endpoint (resolved);
    }
  else
    g_assert_true (error != NULL && error->domain == GAZE_ENDPOINT_ERROR);

  gaze_endpoint_host_is_loopback (text);

  return 0;
}
