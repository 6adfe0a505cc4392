/* gaze-endpoint.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "gaze-endpoint"

#include "config.h"

#include <string.h>
#include <glib/gi18n.h>
#include <gio/gio.h>

#include "gaze-endpoint.h"

G_DEFINE_QUARK (gaze-endpoint-error-quark, gaze_endpoint_error)
G_DEFINE_BOXED_TYPE (GazeEndpoint, gaze_endpoint, gaze_endpoint_copy, gaze_endpoint_free)

#define EXAMPLE_ENDPOINT "https://myresource.openai.azure.com"

GazeEndpoint *
gaze_endpoint_copy (const GazeEndpoint *self)
{
  GazeEndpoint *copy;

  g_return_val_if_fail (self != NULL, NULL);

  copy = g_new0 (GazeEndpoint, 1);
  copy->base_url = g_strdup (self->base_url);
  copy->deployment = g_strdup (self->deployment);
  copy->api_version = g_strdup (self->api_version);

  return copy;
}

void
gaze_endpoint_free (GazeEndpoint *self)
{
  if (self == NULL)
    return;

  g_free (self->base_url);
  g_free (self->deployment);
  g_free (self->api_version);
  g_free (self);
}

gboolean
gaze_endpoint_host_is_loopback (const char *host)
{
  g_autoptr(GInetAddress) address = NULL;
  g_autofree char *bare = NULL;
  gsize len;

  if (host == NULL || host[0] == '\0')
    return FALSE;

  if (g_ascii_strcasecmp (host, "localhost") == 0)
    return TRUE;

  /* IPv6 literals may still carry their brackets. */
  len = strlen (host);
  if (host[0] == '[' && host[len - 1] == ']')
    bare = g_strndup (host + 1, len - 2);
  else
    bare = g_strdup (host);

  address = g_inet_address_new_from_string (bare);

  return address != NULL && g_inet_address_get_is_loopback (address);
}

static gboolean
is_resource_name (const char *text)
{
  for (const char *p = text; *p; p++)
    {
      if (!g_ascii_isalnum (*p) && *p != '-')
        return FALSE;
    }

  return text[0] != '\0' && text[0] != '-' && strlen (text) <= 63;
}

/* A host is an IP address literal, or names of letters, digits and
 * hyphens joined by dots; anything else, such as control characters or a
 * pasted e-mail address, is not a host the key may be sent to.
 */
static gboolean
is_valid_host (const char *host)
{
  g_auto(GStrv) labels = NULL;
  g_autofree char *bare = NULL;
  gsize len = strlen (host);

  if (host[0] == '[' && len > 2 && host[len - 1] == ']')
    {
      bare = g_strndup (host + 1, len - 2);
      return g_hostname_is_ip_address (bare);
    }

  if (g_hostname_is_ip_address (host))
    return TRUE;

  if (len == 0 || len > 253)
    return FALSE;

  labels = g_strsplit (host, ".", -1);
  for (guint i = 0; labels[i] != NULL; i++)
    {
      gsize label_len = strlen (labels[i]);

      /* A single trailing dot is the root, and allowed. */
      if (label_len == 0 && labels[i + 1] == NULL && i > 0)
        continue;

      if (label_len == 0 || label_len > 63 ||
          labels[i][0] == '-' || labels[i][label_len - 1] == '-')
        return FALSE;

      for (const char *p = labels[i]; *p; p++)
        {
          if (!g_ascii_isalnum (*p) && *p != '-')
            return FALSE;
        }
    }

  return TRUE;
}

/* What the person typed, short enough to quote in a sentence. */
static char *
dup_quotable (const char *text)
{
  g_autofree char *start = NULL;

  if (g_utf8_strlen (text, -1) <= 60)
    return g_strdup (text);

  start = g_utf8_substring (text, 0, 59);

  return g_strconcat (start, "…", NULL);
}

static char *
dup_query_param (const char *query,
                 const char *name)
{
  g_autoptr(GHashTable) params = NULL;
  const char *value;

  if (query == NULL)
    return NULL;

  params = g_uri_parse_params (query, -1, "&", G_URI_PARAMS_NONE, NULL);
  if (params == NULL)
    return NULL;

  value = g_hash_table_lookup (params, name);
  if (value == NULL || value[0] == '\0')
    return NULL;

  return g_strdup (value);
}

/* Splits a path such as "/prefix/openai/deployments/gpt4v/chat/completions"
 * into the part before "/openai" (kept in the base URL, for gateways that
 * put the service under a prefix) and the deployment name.
 */
static char *
split_path (const char  *path,
            char       **deployment)
{
  g_autofree char *trimmed = g_strdup (path ? path : "");
  const char *openai;
  gsize len;

  *deployment = NULL;

  len = strlen (trimmed);
  while (len > 0 && trimmed[len - 1] == '/')
    trimmed[--len] = '\0';

  openai = strstr (trimmed, "/openai");
  if (openai != NULL && (openai[7] == '\0' || openai[7] == '/'))
    {
      const char *rest = openai + 7;

      if (g_str_has_prefix (rest, "/deployments/"))
        {
          const char *name = rest + strlen ("/deployments/");
          const char *end = strchr (name, '/');
          g_autofree char *escaped = end ? g_strndup (name, end - name) : g_strdup (name);

          if (escaped[0] != '\0')
            *deployment = g_uri_unescape_string (escaped, NULL);
        }

      /* "https://host//openai/…" must not leave a base URL ending in "/". */
      len = openai - trimmed;
      while (len > 0 && trimmed[len - 1] == '/')
        len--;

      return g_strndup (trimmed, len);
    }

  return g_steal_pointer (&trimmed);
}

/**
 * gaze_endpoint_parse:
 * @text: what the person typed or pasted
 * @error: a location for a #GError, with a sentence that says what to fix
 *
 * Accepts a resource name ("myres"), an endpoint URL, or the full target URI
 * copied from the Azure portal, which also names the deployment and the
 * api-version.
 *
 * Returns: (transfer full): the endpoint, or %NULL with @error set
 */
GazeEndpoint *
gaze_endpoint_parse (const char  *text,
                     GError     **error)
{
  g_autoptr(GazeEndpoint) self = NULL;
  g_autoptr(GUri) uri = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *trimmed = NULL;
  g_autofree char *candidate = NULL;
  g_autofree char *prefix = NULL;
  g_autofree char *deployment = NULL;
  g_autofree char *quotable = NULL;
  const char *scheme;
  const char *host;

  trimmed = g_strstrip (g_utf8_make_valid (text ? text : "", -1));
  while (trimmed[0] != '\0' && trimmed[strlen (trimmed) - 1] == '/')
    trimmed[strlen (trimmed) - 1] = '\0';

  if (trimmed[0] == '\0')
    {
      g_set_error (error, GAZE_ENDPOINT_ERROR, GAZE_ENDPOINT_ERROR_EMPTY,
                   _("Enter the endpoint of your Azure OpenAI resource, for example "
                     "“myresource” or %s."),
                   EXAMPLE_ENDPOINT);
      return NULL;
    }

  if (strstr (trimmed, "://") != NULL)
    candidate = g_strdup (trimmed);
  else if (is_resource_name (trimmed))
    candidate = g_strdup_printf ("https://%s.openai.azure.com", trimmed);
  else if (strchr (trimmed, '.') != NULL && strpbrk (trimmed, " \t") == NULL)
    candidate = g_strdup_printf ("https://%s", trimmed);

  if (candidate != NULL)
    uri = g_uri_parse (candidate,
                       G_URI_FLAGS_ENCODED_PATH | G_URI_FLAGS_ENCODED_QUERY,
                       &local_error);

  quotable = dup_quotable (trimmed);

  if (uri == NULL)
    {
      g_set_error (error, GAZE_ENDPOINT_ERROR, GAZE_ENDPOINT_ERROR_INVALID,
                   _("“%s” is not an endpoint Gaze understands. Copy the endpoint from the "
                     "“Keys and Endpoint” page of your resource in the Azure portal; it "
                     "looks like %s."),
                   quotable, EXAMPLE_ENDPOINT);
      return NULL;
    }

  scheme = g_uri_get_scheme (uri);
  host = g_uri_get_host (uri);

  if (host == NULL || !is_valid_host (host) || g_uri_get_userinfo (uri) != NULL ||
      (g_ascii_strcasecmp (scheme, "https") != 0 && g_ascii_strcasecmp (scheme, "http") != 0))
    {
      g_set_error (error, GAZE_ENDPOINT_ERROR, GAZE_ENDPOINT_ERROR_INVALID,
                   _("“%s” is not an endpoint Gaze understands. The endpoint starts with "
                     "https:// and looks like %s."),
                   quotable, EXAMPLE_ENDPOINT);
      return NULL;
    }

  if (g_ascii_strcasecmp (scheme, "http") == 0 && !gaze_endpoint_host_is_loopback (host))
    {
      g_set_error_literal (error, GAZE_ENDPOINT_ERROR, GAZE_ENDPOINT_ERROR_INSECURE,
                           _("Gaze sends your key only over a secure connection. Use the "
                             "https:// address of your resource; plain http:// is allowed "
                             "only for this computer."));
      return NULL;
    }

  prefix = split_path (g_uri_get_path (uri), &deployment);

  self = g_new0 (GazeEndpoint, 1);
  self->base_url = g_uri_join (G_URI_FLAGS_ENCODED_PATH,
                               g_ascii_strcasecmp (scheme, "https") == 0 ? "https" : "http",
                               NULL,
                               host,
                               g_uri_get_port (uri),
                               prefix,
                               NULL,
                               NULL);
  self->deployment = g_steal_pointer (&deployment);
  self->api_version = dup_query_param (g_uri_get_query (uri), "api-version");

  return g_steal_pointer (&self);
}

/**
 * gaze_endpoint_resolve:
 * @text: the endpoint as the person gave it
 * @deployment: (nullable): the deployment to use when @text names none
 * @api_version: (nullable): the api-version to use when @text names none
 * @error: a location for a #GError
 *
 * Parses @text and fills in what it leaves open, so that the result names
 * everything a request needs.
 *
 * Returns: (transfer full): a complete endpoint, or %NULL with @error set
 */
GazeEndpoint *
gaze_endpoint_resolve (const char  *text,
                       const char  *deployment,
                       const char  *api_version,
                       GError     **error)
{
  g_autoptr(GazeEndpoint) self = NULL;

  if (!(self = gaze_endpoint_parse (text, error)))
    return NULL;

  if (self->deployment == NULL && deployment != NULL)
    {
      g_autofree char *trimmed = g_strstrip (g_strdup (deployment));

      if (trimmed[0] != '\0')
        self->deployment = g_steal_pointer (&trimmed);
    }

  if (self->deployment == NULL)
    {
      g_set_error_literal (error, GAZE_ENDPOINT_ERROR, GAZE_ENDPOINT_ERROR_NO_DEPLOYMENT,
                           _("Enter the name of your deployment. It is listed under "
                             "“Deployments” in Azure AI Foundry."));
      return NULL;
    }

  if (self->api_version == NULL)
    {
      g_autofree char *trimmed = g_strstrip (g_strdup (api_version ? api_version : ""));

      self->api_version = trimmed[0] != '\0' ? g_steal_pointer (&trimmed)
                                             : g_strdup (GAZE_DEFAULT_API_VERSION);
    }

  return g_steal_pointer (&self);
}

/**
 * gaze_endpoint_dup_chat_uri:
 * @self: a resolved endpoint
 *
 * Returns: (transfer full): the URI of the deployment's chat completions
 */
char *
gaze_endpoint_dup_chat_uri (const GazeEndpoint *self)
{
  g_autofree char *deployment = NULL;
  g_autofree char *api_version = NULL;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (self->deployment != NULL, NULL);

  deployment = g_uri_escape_string (self->deployment, NULL, FALSE);
  api_version = g_uri_escape_string (self->api_version ? self->api_version
                                                       : GAZE_DEFAULT_API_VERSION,
                                     NULL, FALSE);

  return g_strdup_printf ("%s/openai/deployments/%s/chat/completions?api-version=%s",
                          self->base_url, deployment, api_version);
}
