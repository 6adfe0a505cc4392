/* gaze-client-error.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "gaze-client"

#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "gaze-client-error.h"
#include "gaze-json.h"

#define MAX_SERVICE_MESSAGE 240

typedef struct
{
  gint64  retry_after_ms;
  char   *request_id;
} GazeClientErrorPrivate;

static void
gaze_client_error_private_init (GazeClientErrorPrivate *priv)
{
  priv->retry_after_ms = -1;
  priv->request_id = NULL;
}

static void
gaze_client_error_private_copy (const GazeClientErrorPrivate *src,
                                GazeClientErrorPrivate       *dest)
{
  dest->retry_after_ms = src->retry_after_ms;
  dest->request_id = g_strdup (src->request_id);
}

static void
gaze_client_error_private_clear (GazeClientErrorPrivate *priv)
{
  g_clear_pointer (&priv->request_id, g_free);
}

G_DEFINE_EXTENDED_ERROR (GazeClientError, gaze_client_error)

/**
 * gaze_client_error_get_retry_after_ms:
 * @error: a #GError
 *
 * Returns: how long the service asked to wait, or -1 when it did not say
 */
gint64
gaze_client_error_get_retry_after_ms (const GError *error)
{
  GazeClientErrorPrivate *priv;

  if (error == NULL || error->domain != GAZE_CLIENT_ERROR ||
      !(priv = gaze_client_error_get_private (error)))
    return -1;

  return priv->retry_after_ms;
}

/**
 * gaze_client_error_get_request_id:
 * @error: a #GError
 *
 * Returns: (nullable): the service's id of the failed request, for support
 */
const char *
gaze_client_error_get_request_id (const GError *error)
{
  GazeClientErrorPrivate *priv;

  if (error == NULL || error->domain != GAZE_CLIENT_ERROR ||
      !(priv = gaze_client_error_get_private (error)))
    return NULL;

  return priv->request_id;
}

static gboolean
parse_non_negative (const char *text,
                    gdouble     scale,
                    gint64     *out_ms)
{
  g_autofree char *trimmed = NULL;
  char *end = NULL;
  gdouble value;

  if (text == NULL)
    return FALSE;

  trimmed = g_strstrip (g_strdup (text));
  if (trimmed[0] == '\0')
    return FALSE;

  value = g_ascii_strtod (trimmed, &end);
  if (end == trimmed || *end != '\0' || !(value >= 0) || value > 1e9)
    return FALSE;

  *out_ms = (gint64)(value * scale + 0.5);

  return TRUE;
}

/**
 * gaze_client_parse_retry_after:
 * @retry_after: (nullable): the Retry-After header, seconds or an HTTP date
 * @retry_after_ms: (nullable): the retry-after-ms header
 * @message: (nullable): the service's message, which may say "retry after N seconds"
 * @now: (nullable): the time an HTTP date is measured from, or %NULL for now
 *
 * Returns: the wait in milliseconds, or -1 when nothing says
 */
gint64
gaze_client_parse_retry_after (const char *retry_after,
                               const char *retry_after_ms,
                               const char *message,
                               GDateTime  *now)
{
  gint64 ms;

  if (parse_non_negative (retry_after_ms, 1, &ms))
    return ms;

  if (parse_non_negative (retry_after, 1000, &ms))
    return ms;

  if (retry_after != NULL)
    {
      g_autoptr(GDateTime) when = soup_date_time_new_from_http_string (retry_after);

      if (when != NULL)
        {
          g_autoptr(GDateTime) local_now = now ? g_date_time_ref (now) : g_date_time_new_now_utc ();
          GTimeSpan span = g_date_time_difference (when, local_now);

          return MAX (0, span / G_TIME_SPAN_MILLISECOND);
        }
    }

  if (message != NULL)
    {
      g_autoptr(GRegex) regex = g_regex_new ("retry after (\\d{1,9}) seconds?",
                                             G_REGEX_CASELESS, 0, NULL);
      g_autoptr(GMatchInfo) match = NULL;

      if (g_regex_match (regex, message, 0, &match))
        {
          g_autofree char *seconds = g_match_info_fetch (match, 1);

          return g_ascii_strtoll (seconds, NULL, 10) * 1000;
        }
    }

  return -1;
}

/* Longer waits than this are said, not waited for: nobody watches a
 * countdown for an hour.
 */
#define MAX_AUTOMATIC_WAIT_MS (60 * 1000)
#define BACKOFF_BASE_MS 1000
#define BACKOFF_JITTER_MS 500

/**
 * gaze_client_error_should_retry:
 * @error: why the request failed
 * @attempt: how many retries were made already
 * @delay_ms: (out): how long to wait before the next one
 *
 * Rate limits are retried after the wait the service asked for, if it is
 * short; server errors after a growing wait with jitter, so that many
 * clients do not come back at the same moment. Nothing else is retried:
 * a wrong key stays wrong.
 *
 * Returns: %TRUE if the request should be sent again after @delay_ms
 */
gboolean
gaze_client_error_should_retry (const GError *error,
                                guint         attempt,
                                gint64       *delay_ms)
{
  g_return_val_if_fail (error != NULL, FALSE);
  g_return_val_if_fail (delay_ms != NULL, FALSE);

  *delay_ms = -1;

  if (attempt >= GAZE_CLIENT_MAX_RETRIES || error->domain != GAZE_CLIENT_ERROR)
    return FALSE;

  if (error->code == GAZE_CLIENT_ERROR_RATE_LIMITED)
    {
      gint64 wait = gaze_client_error_get_retry_after_ms (error);

      /* Without a word from the service, wait as for a server error. */
      if (wait < 0)
        wait = BACKOFF_BASE_MS << (attempt + 1);
      if (wait > MAX_AUTOMATIC_WAIT_MS)
        return FALSE;

      *delay_ms = wait;
      return TRUE;
    }

  if (error->code == GAZE_CLIENT_ERROR_SERVER_ERROR)
    {
      gint64 wait = gaze_client_error_get_retry_after_ms (error);

      if (wait < 0 || wait > MAX_AUTOMATIC_WAIT_MS)
        wait = (BACKOFF_BASE_MS << attempt) + g_random_int_range (0, BACKOFF_JITTER_MS);

      *delay_ms = wait;
      return TRUE;
    }

  return FALSE;
}

/**
 * gaze_client_format_wait:
 * @ms: a wait in milliseconds
 *
 * Says how long a wait is the way a person would: "7 seconds",
 * "3 minutes", "24 hours".
 *
 * Returns: (transfer full): the wait, in words
 */
char *
gaze_client_format_wait (gint64 ms)
{
  /* Plain ints, so that xgettext sees the conversions; no wait the
   * service can ask for comes near G_MAXINT hours.
   */
  int seconds = (int)CLAMP ((ms + 999) / 1000, 1, G_MAXINT);
  int minutes = (int)(((gint64)seconds + 59) / 60);
  int hours = (minutes + 59) / 60;

  if (seconds < 90)
    return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%d second", "%d seconds", seconds),
                            seconds);

  if (minutes < 90)
    return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%d minute", "%d minutes", minutes),
                            minutes);

  return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%d hour", "%d hours", hours),
                          hours);
}

/* Azure's error body is {"error": {"code", "message", "param", ...}}; the
 * code is sometimes a number in a string ("429") and the other fields may
 * be missing or null. Returns the "error" object, or NULL.
 */
static JsonObject *
parse_error_object (JsonParser *parser,
                    GBytes     *body)
{
  JsonNode *root;
  gsize size = 0;
  const char *data;

  if (body == NULL)
    return NULL;

  data = g_bytes_get_data (body, &size);
  root = gaze_json_parse_untrusted (parser, data, size);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return NULL;

  return gaze_json_get_object (json_node_get_object (root), "error");
}

static const char *
category_label (const char *name)
{
  if (g_str_equal (name, "hate"))
    return _("hate");
  if (g_str_equal (name, "sexual"))
    return _("sexual content");
  if (g_str_equal (name, "violence"))
    return _("violence");
  if (g_str_equal (name, "self_harm"))
    return _("self-harm");
  if (g_str_equal (name, "jailbreak"))
    return _("jailbreak attempt");
  if (g_str_equal (name, "profanity"))
    return _("profanity");
  if (g_str_equal (name, "indirect_attack"))
    return _("indirect attack");
  if (g_str_equal (name, "protected_material_text"))
    return _("protected text, such as song lyrics or articles");
  if (g_str_equal (name, "protected_material_code"))
    return _("protected code from a public repository");
  if (g_str_equal (name, "custom_blocklists"))
    return _("a blocked word list");
  return NULL;
}

static const char *
severity_label (const char *severity)
{
  if (g_strcmp0 (severity, "low") == 0)
    return _("low");
  if (g_strcmp0 (severity, "medium") == 0)
    return _("medium");
  if (g_strcmp0 (severity, "high") == 0)
    return _("high");
  return NULL;
}

static void
describe_blocklists (JsonNode *node,
                     GString  *out)
{
  JsonArray *array;
  gboolean filtered = FALSE;

  /* Older versions send an array of {filtered, id}; newer ones an object
   * with "filtered" and "details".
   */
  if (JSON_NODE_HOLDS_ARRAY (node))
    {
      array = json_node_get_array (node);
      for (guint i = 0; i < json_array_get_length (array); i++)
        {
          JsonNode *item = json_array_get_element (array, i);

          if (JSON_NODE_HOLDS_OBJECT (item) &&
              gaze_json_get_boolean (json_node_get_object (item), "filtered"))
            filtered = TRUE;
        }
    }
  else if (JSON_NODE_HOLDS_OBJECT (node))
    {
      filtered = gaze_json_get_boolean (json_node_get_object (node), "filtered");
    }

  if (filtered)
    {
      if (out->len > 0)
        g_string_append (out, ", ");
      g_string_append (out, category_label ("custom_blocklists"));
    }
}

/**
 * gaze_client_describe_filter_results:
 *
 * Lists the categories a content filter result marks as filtered, in words,
 * with their severity: "violence (medium), hate (high)".
 */
char *
gaze_client_describe_filter_results (JsonObject *results)
{
  GString *out = g_string_new (NULL);
  g_autoptr(GList) names = NULL;

  if (results == NULL)
    return g_string_free (out, FALSE);

  names = json_object_get_members (results);
  for (const GList *l = names; l; l = l->next)
    {
      const char *name = l->data;
      JsonNode *node = json_object_get_member (results, name);
      JsonObject *category;
      const char *label;
      const char *severity;

      if (g_str_equal (name, "custom_blocklists"))
        {
          describe_blocklists (node, out);
          continue;
        }

      if (!JSON_NODE_HOLDS_OBJECT (node) || !(label = category_label (name)))
        continue;

      category = json_node_get_object (node);
      if (!gaze_json_get_boolean (category, "filtered"))
        continue;

      if (out->len > 0)
        g_string_append (out, ", ");

      severity = severity_label (gaze_json_get_string (category, "severity"));
      if (severity != NULL)
        /* Translators: a content filter category and its severity, e.g. "violence (medium)" */
        g_string_append_printf (out, _("%s (%s)"), label, severity);
      else
        g_string_append (out, label);
    }

  return g_string_free (out, FALSE);
}

static char *
shorten (const char *text)
{
  g_autofree char *flat = NULL;
  const char *end;

  if (text == NULL)
    return NULL;

  flat = g_strstrip (g_strdelimit (g_strdup (text), "\r\n\t", ' '));
  if (!g_utf8_validate (flat, -1, &end))
    flat[end - flat] = '\0';

  if (g_utf8_strlen (flat, -1) <= MAX_SERVICE_MESSAGE)
    return g_steal_pointer (&flat);

  *g_utf8_offset_to_pointer (flat, MAX_SERVICE_MESSAGE - 1) = '\0';

  return g_strconcat (flat, "…", NULL);
}

/* The service's message, quoted before a sentence of ours, ends as a
 * sentence does.
 */
static char *
end_sentence (const char *text)
{
  if (g_str_has_suffix (text, ".") || g_str_has_suffix (text, "!") ||
      g_str_has_suffix (text, "?") || g_str_has_suffix (text, "…"))
    return g_strdup (text);

  return g_strconcat (text, ".", NULL);
}

static GError *
new_error (GazeClientError  code,
           gint64           retry_after_ms,
           const char      *request_id,
           char            *message)
{
  GError *error = g_error_new_literal (GAZE_CLIENT_ERROR, code, message);
  GazeClientErrorPrivate *priv = gaze_client_error_get_private (error);

  priv->retry_after_ms = retry_after_ms;
  priv->request_id = g_strdup (request_id);
  g_free (message);

  return error;
}

/**
 * gaze_client_describe_error_filter:
 * @error_object: (nullable): the "error" object of a reply or of a stream event
 *
 * Azure names the filtered categories under innererror, as
 * content_filter_result (what the service sends) or content_filter_results
 * (what its specification says).
 *
 * Returns: (transfer full): the categories in words, or ""
 */
char *
gaze_client_describe_error_filter (JsonObject *error_object)
{
  JsonObject *inner = gaze_json_get_object (error_object, "innererror");
  JsonObject *results = gaze_json_get_object (inner, "content_filter_result");

  if (results == NULL)
    results = gaze_json_get_object (inner, "content_filter_results");

  return gaze_client_describe_filter_results (results);
}

/**
 * gaze_client_error_new_literal:
 * @code: what went wrong
 * @message: the sentence to show
 * @request_id: (nullable): the service's id of the request
 *
 * Returns: (transfer full): a new error in %GAZE_CLIENT_ERROR
 */
GError *
gaze_client_error_new_literal (GazeClientError  code,
                               const char      *message,
                               const char      *request_id)
{
  g_return_val_if_fail (message != NULL, NULL);

  return new_error (code, -1, request_id, g_strdup (message));
}

/**
 * gaze_client_error_new_unreadable:
 * @request_id: (nullable): the service's id of the request
 *
 * The error for a reply that is not what the service sends: not JSON, cut
 * short, of the wrong shape, or far too large.
 *
 * Returns: (transfer full): a new %GAZE_CLIENT_ERROR_UNREADABLE_REPLY error
 */
GError *
gaze_client_error_new_unreadable (const char *request_id)
{
  return gaze_client_error_new_literal (GAZE_CLIENT_ERROR_UNREADABLE_REPLY,
                                        _("The service sent a reply Gaze cannot read. Try "
                                          "again; if it keeps happening, check that the "
                                          "endpoint belongs to an Azure OpenAI resource."),
                                        request_id);
}

/**
 * gaze_client_error_new_from_http:
 * @status: the HTTP status, not 2xx
 * @body: (nullable): the response body
 * @deployment: (nullable): the deployment the request went to
 * @retry_after: (nullable): the Retry-After header
 * @retry_after_ms: (nullable): the retry-after-ms header
 * @request_id: (nullable): the apim-request-id or x-request-id header
 *
 * Turns a failed response into a sentence that says what to fix.
 *
 * Returns: (transfer full): a new error in %GAZE_CLIENT_ERROR
 */
GError *
gaze_client_error_new_from_http (guint       status,
                                 GBytes     *body,
                                 const char *deployment,
                                 const char *retry_after,
                                 const char *retry_after_ms,
                                 const char *request_id)
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  JsonObject *error_object = parse_error_object (parser, body);
  const char *code = gaze_json_get_string (error_object, "code");
  const char *message = gaze_json_get_string (error_object, "message");
  const char *param = gaze_json_get_string (error_object, "param");

  switch (status)
    {
    case SOUP_STATUS_UNAUTHORIZED:
      return new_error (GAZE_CLIENT_ERROR_UNAUTHORIZED, -1, request_id,
                        g_strdup (_("Azure did not accept the API key. Copy “KEY 1” from "
                                    "the “Keys and Endpoint” page of your resource in the "
                                    "Azure portal and paste it in Preferences.")));

    case SOUP_STATUS_FORBIDDEN:
      return new_error (GAZE_CLIENT_ERROR_FORBIDDEN, -1, request_id,
                        g_strdup (_("This key has no access to the resource, or a network "
                                    "rule of the resource blocks this computer. Check the "
                                    "key, and the “Networking” page of the resource in the "
                                    "Azure portal.")));

    case SOUP_STATUS_NOT_FOUND:
      if (g_strcmp0 (code, "DeploymentNotFound") == 0)
        {
          if (deployment != NULL)
            return new_error (GAZE_CLIENT_ERROR_DEPLOYMENT_NOT_FOUND, -1, request_id,
                              g_strdup_printf (_("This resource has no deployment named "
                                                 "“%s”. Check the name under “Deployments” "
                                                 "in Azure AI Foundry; it is "
                                                 "case-sensitive. A deployment made in the "
                                                 "last few minutes may not be ready yet."),
                                               deployment));
          return new_error (GAZE_CLIENT_ERROR_DEPLOYMENT_NOT_FOUND, -1, request_id,
                            g_strdup (_("This resource has no deployment with that name. "
                                        "Check the name under “Deployments” in Azure AI "
                                        "Foundry; it is case-sensitive.")));
        }
      return new_error (GAZE_CLIENT_ERROR_ENDPOINT_NOT_FOUND, -1, request_id,
                        g_strdup (_("The endpoint does not answer like an Azure OpenAI "
                                    "resource. Check the endpoint and the API version in "
                                    "Preferences; the endpoint looks like "
                                    "https://myresource.openai.azure.com.")));

    case 429: /* Too Many Requests; libsoup 3.2 has no name for it */
      {
        gint64 wait_ms = gaze_client_parse_retry_after (retry_after,
                                                        retry_after_ms,
                                                        message,
                                                        NULL);

        if (wait_ms >= 0)
          {
            g_autofree char *wait = gaze_client_format_wait (wait_ms);

            return new_error (GAZE_CLIENT_ERROR_RATE_LIMITED, wait_ms, request_id,
                              g_strdup_printf (_("Azure is limiting how often this "
                                                 "deployment may be used. Try again in %s, "
                                                 "or raise the deployment’s rate limit in "
                                                 "Azure AI Foundry."),
                                               wait));
          }

        return new_error (GAZE_CLIENT_ERROR_RATE_LIMITED, -1, request_id,
                          g_strdup (_("Azure is limiting how often this deployment may be "
                                      "used. Wait a minute and try again, or raise the "
                                      "deployment’s rate limit in Azure AI Foundry.")));
      }

    case SOUP_STATUS_BAD_REQUEST:
      if (g_strcmp0 (code, "content_filter") == 0)
        {
          g_autofree char *categories = gaze_client_describe_error_filter (error_object);

          if (categories[0] != '\0')
            return new_error (GAZE_CLIENT_ERROR_CONTENT_FILTERED, -1, request_id,
                              g_strdup_printf (_("Azure’s content filter blocked the "
                                                 "question: %s. Rephrase it or use other "
                                                 "photos."),
                                               categories));
          return new_error (GAZE_CLIENT_ERROR_CONTENT_FILTERED, -1, request_id,
                            g_strdup (_("Azure’s content filter blocked the question. "
                                        "Rephrase it or use other photos.")));
        }
      else
        {
          g_autofree char *short_message = shorten (message);

          /* The service's words say what is wrong; what to do about it is
           * in the question, the photos or the settings.
           */
          if (short_message != NULL && short_message[0] != '\0' &&
              param != NULL && param[0] != '\0')
            return new_error (GAZE_CLIENT_ERROR_BAD_REQUEST, -1, request_id,
                              g_strdup_printf (_("Azure refused the request: “%s” "
                                                 "(parameter “%s”). Check the question, "
                                                 "the photos and the settings in "
                                                 "Preferences, then try again."),
                                               short_message, param));
          if (short_message != NULL && short_message[0] != '\0')
            {
              g_autofree char *sentence = end_sentence (short_message);

              return new_error (GAZE_CLIENT_ERROR_BAD_REQUEST, -1, request_id,
                                g_strdup_printf (_("Azure refused the request: “%s” Check "
                                                   "the question, the photos and the "
                                                   "settings in Preferences, then try "
                                                   "again."),
                                                 sentence));
            }
          return new_error (GAZE_CLIENT_ERROR_BAD_REQUEST, -1, request_id,
                            g_strdup (_("Azure refused the request without saying why. "
                                        "Check the API version in Preferences.")));
        }

    case SOUP_STATUS_INTERNAL_SERVER_ERROR:
    case SOUP_STATUS_BAD_GATEWAY:
    case SOUP_STATUS_SERVICE_UNAVAILABLE:
    case SOUP_STATUS_GATEWAY_TIMEOUT:
      return new_error (GAZE_CLIENT_ERROR_SERVER_ERROR,
                        gaze_client_parse_retry_after (retry_after, retry_after_ms, NULL, NULL),
                        request_id,
                        g_strdup_printf (_("Azure OpenAI had a problem on its side "
                                           "(HTTP %u). Try again in a moment."),
                                         status));

    default:
      if (status >= 500)
        return new_error (GAZE_CLIENT_ERROR_SERVER_ERROR, -1, request_id,
                          g_strdup_printf (_("Azure OpenAI had a problem on its side "
                                             "(HTTP %u). Try again in a moment."),
                                           status));
      return new_error (GAZE_CLIENT_ERROR_HTTP, -1, request_id,
                        g_strdup_printf (_("Azure OpenAI answered with an unexpected error "
                                           "(HTTP %u). Check the endpoint in Preferences "
                                           "and try again."),
                                         status));
    }
}
