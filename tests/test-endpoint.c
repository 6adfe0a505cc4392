/* test-endpoint.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "gaze-endpoint.h"

/* Rows that expect success use this in place of an error code. */
#define OK (-1)

#define RESOURCE "https://myres.openai.azure.com"
#define CHAT "/chat/completions?api-version="

/* The rest of a row that expects GAZE_ENDPOINT_ERROR_<what>. */
#define FAILS(what) GAZE_ENDPOINT_ERROR_##what, NULL, NULL, NULL

typedef struct
{
  const char *name;
  const char *text;
  int         code;
  const char *base_url;
  const char *deployment;
  const char *api_version;
} ParseCase;

static const ParseCase parse_cases[] = {
  /* What the portal and people actually paste. */
  { "resource-name", "myres", OK,
    "https://myres.openai.azure.com", NULL, NULL },
  { "resource-name-with-dashes", "my-res-01", OK,
    "https://my-res-01.openai.azure.com", NULL, NULL },
  { "resource-name-blanks", "  myres\n", OK,
    "https://myres.openai.azure.com", NULL, NULL },
  { "endpoint-trailing-slash", "https://myres.openai.azure.com/", OK,
    "https://myres.openai.azure.com", NULL, NULL },
  { "endpoint-many-trailing-slashes", "https://myres.openai.azure.com///", OK,
    "https://myres.openai.azure.com", NULL, NULL },
  { "endpoint-cognitiveservices", "https://myres.cognitiveservices.azure.com", OK,
    "https://myres.cognitiveservices.azure.com", NULL, NULL },
  { "endpoint-surrounding-blanks", " \t https://myres.cognitiveservices.azure.com/ \n", OK,
    "https://myres.cognitiveservices.azure.com", NULL, NULL },
  { "endpoint-crlf", "https://myres.openai.azure.com/\r\n", OK,
    "https://myres.openai.azure.com", NULL, NULL },
  { "endpoint-upper-case-scheme", "HTTPS://myres.openai.azure.com", OK,
    "https://myres.openai.azure.com", NULL, NULL },
  { "endpoint-port", "https://myres.openai.azure.com:8443/", OK,
    "https://myres.openai.azure.com:8443", NULL, NULL },
  { "host-without-scheme", "myres.openai.azure.com", OK,
    "https://myres.openai.azure.com", NULL, NULL },
  { "host-without-scheme-trailing-slash", "myres.openai.azure.com/\n", OK,
    "https://myres.openai.azure.com", NULL, NULL },
  { "portal-target-uri",
    RESOURCE "/openai/deployments/gpt4v" CHAT "2024-10-21", OK,
    "https://myres.openai.azure.com", "gpt4v", "2024-10-21" },
  { "portal-target-uri-blanks",
    "\n  " RESOURCE "/openai/deployments/gpt4v" CHAT "2024-10-21  \n", OK,
    "https://myres.openai.azure.com", "gpt4v", "2024-10-21" },
  { "portal-target-uri-preview",
    RESOURCE "/openai/deployments/vision" CHAT "2023-08-01-preview",
    OK, "https://myres.openai.azure.com", "vision", "2023-08-01-preview" },
  { "target-uri-other-params-first",
    RESOURCE "/openai/deployments/gpt4v/chat/completions?foo=1&api-version=2024-06-01",
    OK, "https://myres.openai.azure.com", "gpt4v", "2024-06-01" },
  { "target-uri-empty-api-version",
    "https://myres.openai.azure.com/openai/deployments/gpt4v/chat/completions?api-version=", OK,
    "https://myres.openai.azure.com", "gpt4v", NULL },
  { "deployment-without-rest", "https://myres.openai.azure.com/openai/deployments/gpt4v", OK,
    "https://myres.openai.azure.com", "gpt4v", NULL },
  { "deployment-trailing-slash", "https://myres.openai.azure.com/openai/deployments/gpt4v/", OK,
    "https://myres.openai.azure.com", "gpt4v", NULL },
  { "deployment-escaped-space",
    RESOURCE "/openai/deployments/my%20vision" CHAT "2024-10-21",
    OK, "https://myres.openai.azure.com", "my vision", "2024-10-21" },
  { "deployment-escaped-letters", "https://myres.openai.azure.com/openai/deployments/gpt%2D4o", OK,
    "https://myres.openai.azure.com", "gpt-4o", NULL },
  { "deployments-without-name", "https://myres.openai.azure.com/openai/deployments/", OK,
    "https://myres.openai.azure.com", NULL, NULL },
  { "openai-alone", "https://myres.openai.azure.com/openai/", OK,
    "https://myres.openai.azure.com", NULL, NULL },
  { "openai-alone-no-slash", "https://myres.openai.azure.com/openai", OK,
    "https://myres.openai.azure.com", NULL, NULL },
  { "api-version-on-root", "https://myres.openai.azure.com/?api-version=2024-10-21", OK,
    "https://myres.openai.azure.com", NULL, "2024-10-21" },
  { "gateway-prefix", "https://gw.example.com/azure/aoai/", OK,
    "https://gw.example.com/azure/aoai", NULL, NULL },
  { "gateway-prefix-target-uri",
    "https://gw.example.com/azure/openai/deployments/gpt4v" CHAT "2024-10-21", OK,
    "https://gw.example.com/azure", "gpt4v", "2024-10-21" },
  { "gateway-prefix-openai-alone", "https://gw.example.com/team-a/openai/", OK,
    "https://gw.example.com/team-a", NULL, NULL },
  { "openai-is-only-a-prefix-of-a-segment", "https://gw.example.com/openaiproxy", OK,
    "https://gw.example.com/openaiproxy", NULL, NULL },

  /* Plain http is for this computer only. */
  { "loopback-ipv4-port", "http://127.0.0.1:8080", OK,
    "http://127.0.0.1:8080", NULL, NULL },
  { "loopback-ipv4-port-slash", "http://127.0.0.1:8080/", OK,
    "http://127.0.0.1:8080", NULL, NULL },
  { "loopback-ipv4-other", "http://127.5.4.3", OK,
    "http://127.5.4.3", NULL, NULL },
  { "loopback-ipv6", "http://[::1]:9000", OK,
    "http://[::1]:9000", NULL, NULL },
  { "loopback-localhost", "http://localhost:1234", OK,
    "http://localhost:1234", NULL, NULL },
  { "loopback-target-uri",
    "http://127.0.0.1:8080/openai/deployments/gpt4v" CHAT "2024-10-21", OK,
    "http://127.0.0.1:8080", "gpt4v", "2024-10-21" },
  { "insecure-azure", "http://myres.openai.azure.com", FAILS (INSECURE) },
  { "insecure-azure-target-uri",
    "http://myres.openai.azure.com/openai/deployments/gpt4v" CHAT "2024-10-21",
    FAILS (INSECURE) },
  { "insecure-private-ip", "http://10.0.0.1", FAILS (INSECURE) },
  { "insecure-any-address", "http://0.0.0.0:8080", FAILS (INSECURE) },
  { "insecure-localhost-lookalike", "http://localhost.example.com", FAILS (INSECURE) },

  /* Nothing there. */
  { "empty", "", FAILS (EMPTY) },
  { "blanks", "   ", FAILS (EMPTY) },
  { "newlines-and-tabs", "\n\t \r\n", FAILS (EMPTY) },
  { "only-slashes", " // ", FAILS (EMPTY) },

  /* Not an endpoint at all. */
  { "ftp", "ftp://x", FAILS (INVALID) },
  { "file", "file:///etc/passwd", FAILS (INVALID) },
  { "scheme-only", "https://", FAILS (INVALID) },
  { "scheme-only-blanks", "  https://  ", FAILS (INVALID) },
  { "sentence", "not a url at all", FAILS (INVALID) },
  { "separator-only", "://", FAILS (INVALID) },
  { "space-in-host", "https://exa mple.com", FAILS (INVALID) },
  { "space-in-host-without-scheme", "exa mple.com", FAILS (INVALID) },
  { "leading-dash", "-myres", FAILS (INVALID) },
  { "underscore", "my_res", FAILS (INVALID) },
  { "unclosed-ipv6", "https://[::1", FAILS (INVALID) },
  { "port-out-of-range", "https://myres.openai.azure.com:99999", FAILS (INVALID) },
  { "bad-utf8", "\xff\xfe\x01garbage", FAILS (INVALID) },
  { "bad-utf8-with-dot", "\xc0.\xfe", FAILS (INVALID) },
  { "control-characters", "\x01\x02\x03", FAILS (INVALID) },
};

/* Text that GUri takes for a URI but that names no host Gaze could reach. */
static const ParseCase hostile_cases[] = {
  { "mailto", "mailto:someone@example.com", FAILS (INVALID) },
  { "user-at-host", "someone@example.com", FAILS (INVALID) },
  { "only-dots", "...", FAILS (INVALID) },
  { "control-character-in-host", "https://exa\x01mple.com", FAILS (INVALID) },
  { "escaped-control-character-in-host", "https://%1F9", FAILS (INVALID) },
  { "label-too-long",
    "https://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.openai.azure.com",
    FAILS (INVALID) },
};

typedef struct
{
  const char *name;
  const char *text;
  const char *deployment;
  const char *api_version;
  int         code;
  const char *expected_base_url;
  const char *expected_deployment;
  const char *expected_api_version;
} ResolveCase;

static const ResolveCase resolve_cases[] = {
  { "from-args", "myres", "gpt4v", "2024-06-01", OK,
    "https://myres.openai.azure.com", "gpt4v", "2024-06-01" },
  { "default-api-version", "myres", "gpt4v", NULL, OK,
    "https://myres.openai.azure.com", "gpt4v", GAZE_DEFAULT_API_VERSION },
  { "blank-api-version-is-default", "myres", "gpt4v", "  ", OK,
    "https://myres.openai.azure.com", "gpt4v", "2024-10-21" },
  { "args-trimmed", "myres", " gpt4v\n", " 2023-08-01-preview ", OK,
    "https://myres.openai.azure.com", "gpt4v", "2023-08-01-preview" },
  { "uri-wins-over-args",
    RESOURCE "/openai/deployments/fromuri" CHAT "2024-02-15-preview",
    "fromargs", "2024-10-21", OK,
    "https://myres.openai.azure.com", "fromuri", "2024-02-15-preview" },
  { "uri-deployment-arg-api-version",
    "https://myres.openai.azure.com/openai/deployments/fromuri", NULL, "2024-06-01", OK,
    "https://myres.openai.azure.com", "fromuri", "2024-06-01" },
  { "uri-api-version-arg-deployment",
    "https://myres.openai.azure.com/?api-version=2023-08-01-preview", "gpt4v", NULL, OK,
    "https://myres.openai.azure.com", "gpt4v", "2023-08-01-preview" },
  { "loopback", "http://127.0.0.1:8080", "gpt4v", NULL, OK,
    "http://127.0.0.1:8080", "gpt4v", "2024-10-21" },
  { "no-deployment", "myres", NULL, "2024-10-21", FAILS (NO_DEPLOYMENT) },
  { "blank-deployment", "myres", " \t\n", NULL, FAILS (NO_DEPLOYMENT) },
  { "empty-deployment", "https://myres.openai.azure.com/openai/", "", NULL,
    FAILS (NO_DEPLOYMENT) },
  { "empty-endpoint", "", "gpt4v", NULL, FAILS (EMPTY) },
  { "invalid-endpoint", "ftp://x", "gpt4v", NULL, FAILS (INVALID) },
  { "insecure-endpoint", "http://10.0.0.1", "gpt4v", NULL, FAILS (INSECURE) },
};

typedef struct
{
  const char *name;
  const char *text;
  const char *deployment;
  const char *api_version;
  const char *uri;
} ChatUriCase;

static const ChatUriCase chat_uri_cases[] = {
  { "resource", "myres", "gpt4v", NULL,
    RESOURCE "/openai/deployments/gpt4v" CHAT "2024-10-21" },
  { "portal-target-uri",
    RESOURCE "/openai/deployments/gpt4v" CHAT "2024-10-21",
    NULL, NULL,
    RESOURCE "/openai/deployments/gpt4v" CHAT "2024-10-21" },
  { "legacy-api-version", "myres", "gpt4v", "2023-08-01-preview",
    RESOURCE "/openai/deployments/gpt4v" CHAT "2023-08-01-preview" },
  { "deployment-with-space", "myres", "my vision", NULL,
    RESOURCE "/openai/deployments/my%20vision" CHAT "2024-10-21" },
  { "escaped-deployment-round-trip",
    "https://myres.openai.azure.com/openai/deployments/my%20vision", NULL, NULL,
    RESOURCE "/openai/deployments/my%20vision" CHAT "2024-10-21" },
  { "deployment-with-slash-and-query", "myres", "a/b?c", NULL,
    RESOURCE "/openai/deployments/a%2Fb%3Fc" CHAT "2024-10-21" },
  { "api-version-escaped", "myres", "gpt4v", "a&b",
    RESOURCE "/openai/deployments/gpt4v" CHAT "a%26b" },
  { "cognitiveservices", "https://myres.cognitiveservices.azure.com/", "gpt4v", "2024-06-01",
    "https://myres.cognitiveservices.azure.com/openai/deployments/gpt4v" CHAT "2024-06-01" },
  { "gateway-prefix", "https://gw.example.com/azure/", "gpt4v", NULL,
    "https://gw.example.com/azure/openai/deployments/gpt4v" CHAT "2024-10-21" },
  { "loopback-ipv4", "http://127.0.0.1:8080", "gpt4v", NULL,
    "http://127.0.0.1:8080/openai/deployments/gpt4v" CHAT "2024-10-21" },
  { "loopback-ipv6", "http://[::1]:9000", "gpt4v", NULL,
    "http://[::1]:9000/openai/deployments/gpt4v" CHAT "2024-10-21" },
};

typedef struct
{
  const char *host;
  gboolean    loopback;
} LoopbackCase;

static const LoopbackCase loopback_cases[] = {
  { "localhost", TRUE },
  { "LocalHost", TRUE },
  { "127.0.0.1", TRUE },
  { "127.5.4.3", TRUE },
  { "127.255.255.254", TRUE },
  { "::1", TRUE },
  { "[::1]", TRUE },
  { "0:0:0:0:0:0:0:1", TRUE },
  { NULL, FALSE },
  { "", FALSE },
  { "[", FALSE },
  { "[]", FALSE },
  { "]", FALSE },
  { "0.0.0.0", FALSE },
  { "::", FALSE },
  { "10.0.0.1", FALSE },
  { "128.0.0.1", FALSE },
  { "192.168.1.1", FALSE },
  { "myres.openai.azure.com", FALSE },
  { "localhost.example.com", FALSE },
  { "127.0.0.1.example.com", FALSE },
  { "notlocalhost", FALSE },
  { "[::2]", FALSE },
};

static void
assert_base_url_is_clean (const char *base_url)
{
  g_autoptr(GUri) uri = NULL;
  g_autoptr(GError) error = NULL;
  gsize len;

  g_assert_nonnull (base_url);
  len = strlen (base_url);
  g_assert_cmpuint (len, >, 0);
  g_assert_cmpint (base_url[len - 1], !=, '/');
  g_assert_true (g_str_has_prefix (base_url, "https://") || g_str_has_prefix (base_url, "http://"));
  g_assert_false (g_str_has_suffix (base_url, "/openai"));
  g_assert_null (strstr (base_url, "/openai/"));
  g_assert_null (strchr (base_url, '?'));

  uri = g_uri_parse (base_url, G_URI_FLAGS_ENCODED, &error);
  g_assert_no_error (error);
  g_assert_nonnull (uri);
}

static void
assert_error_message (const GError *error)
{
  g_assert_nonnull (error);
  g_assert_nonnull (error->message);
  g_assert_cmpstr (error->message, !=, "");
  g_assert_true (g_utf8_validate (error->message, -1, NULL));
}

static void
test_parse (gconstpointer data)
{
  const ParseCase *c = data;
  g_autoptr(GazeEndpoint) endpoint = NULL;
  g_autoptr(GazeEndpoint) again = NULL;
  g_autoptr(GazeEndpoint) copy = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *escaped = g_strescape (c->text, NULL);

  g_test_message ("input: \"%s\"", escaped);

  endpoint = gaze_endpoint_parse (c->text, &error);

  if (c->code != OK)
    {
      g_assert_error (error, GAZE_ENDPOINT_ERROR, c->code);
      g_assert_null (endpoint);
      assert_error_message (error);
      if (c->code == GAZE_ENDPOINT_ERROR_INSECURE)
        g_assert_nonnull (strstr (error->message, "https"));
      return;
    }

  g_assert_no_error (error);
  g_assert_nonnull (endpoint);
  g_assert_cmpstr (endpoint->base_url, ==, c->base_url);
  g_assert_cmpstr (endpoint->deployment, ==, c->deployment);
  g_assert_cmpstr (endpoint->api_version, ==, c->api_version);
  assert_base_url_is_clean (endpoint->base_url);

  /* What parse gives back must read the same when parsed again, as it is
   * when the preferences store it.
   */
  again = gaze_endpoint_parse (endpoint->base_url, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (again->base_url, ==, endpoint->base_url);
  g_assert_null (again->deployment);
  g_assert_null (again->api_version);

  copy = gaze_endpoint_copy (endpoint);
  g_assert_true (copy != endpoint);
  g_assert_cmpstr (copy->base_url, ==, endpoint->base_url);
  g_assert_cmpstr (copy->deployment, ==, endpoint->deployment);
  g_assert_cmpstr (copy->api_version, ==, endpoint->api_version);
}

static void
test_parse_null (void)
{
  g_autoptr(GazeEndpoint) endpoint = NULL;
  g_autoptr(GError) error = NULL;

  endpoint = gaze_endpoint_parse (NULL, &error);
  g_assert_error (error, GAZE_ENDPOINT_ERROR, GAZE_ENDPOINT_ERROR_EMPTY);
  g_assert_null (endpoint);
  assert_error_message (error);

  /* Callers may not care why. */
  g_assert_null (gaze_endpoint_parse ("ftp://x", NULL));
}

static void
assert_parse_fails (const char *text)
{
  g_autoptr(GazeEndpoint) endpoint = NULL;
  g_autoptr(GError) error = NULL;

  endpoint = gaze_endpoint_parse (text, &error);
  if (endpoint != NULL)
    g_error ("%.60s… (%zu bytes) was accepted as %.60s…",
             text,
             strlen (text),
             endpoint->base_url);
  g_assert_error (error, GAZE_ENDPOINT_ERROR, GAZE_ENDPOINT_ERROR_INVALID);
  assert_error_message (error);
}

typedef struct
{
  const char *name;
  const char *prefix;
  char        fill;
  gsize       count;
  const char *suffix;
} LongCase;

static const LongCase long_cases[] = {
  /* A resource name is a DNS label, at most 63 characters. */
  { "resource-name-64", "", 'a', 64, },
  { "resource-name-100k", "", 'a', 100000, },
  { "dots-100k", "", '.', 100000, },
  { "slashes-then-junk", "https://", '/', 100000, "x" },
  { "sentence-100k", "not ", 'x', 100000, " a url" },
  { "percent-100k", "https://", '%', 100000, },
};

static void
test_parse_long (gconstpointer data)
{
  const LongCase *c = data;
  g_autofree char *fill = g_strnfill (c->count, c->fill);
  g_autofree char *text = g_strconcat (c->prefix, fill, c->suffix, NULL);

  assert_parse_fails (text);
}

static void
test_parse_resource_name_63 (void)
{
  g_autofree char *name = g_strnfill (63, 'a');
  g_autofree char *expected = g_strdup_printf ("https://%s.openai.azure.com", name);
  g_autoptr(GazeEndpoint) endpoint = NULL;
  g_autoptr(GError) error = NULL;

  endpoint = gaze_endpoint_parse (name, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (endpoint->base_url, ==, expected);
}

/* Bytes from a fixed seed, so that a failure can be replayed; each string
 * holds at least one byte that is not ASCII, so none is a resource name.
 */
static void
test_parse_random_bytes (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (20241021);

  for (guint i = 0; i < 2000; i++)
    {
      guint len = g_rand_int_range (rand, 1, 200);
      g_autofree char *text = g_malloc (len + 1);
      g_autoptr(GazeEndpoint) endpoint = NULL;
      g_autoptr(GError) error = NULL;

      for (guint j = 0; j < len; j++)
        text[j] = (char)g_rand_int_range (rand, 1, 256);
      text[g_rand_int_range (rand, 0, len)] = (char)g_rand_int_range (rand, 0x80, 0x100);
      text[len] = '\0';

      endpoint = gaze_endpoint_parse (text, &error);

      if (!g_utf8_validate (text, -1, NULL))
        {
          if (endpoint != NULL)
            g_error ("random input %u was accepted as %s", i, endpoint->base_url);
          g_assert_error (error, GAZE_ENDPOINT_ERROR, GAZE_ENDPOINT_ERROR_INVALID);
          assert_error_message (error);
        }
      else if (endpoint != NULL)
        {
          /* A valid UTF-8 host name with a dot is an internationalised
           * domain name; it must come back in its ASCII form.
           */
          g_assert_no_error (error);
          assert_base_url_is_clean (endpoint->base_url);
          g_assert_true (g_str_is_ascii (endpoint->base_url));
        }
      else
        {
          g_assert_nonnull (error);
          g_assert_true (error->domain == GAZE_ENDPOINT_ERROR);
          assert_error_message (error);
        }
    }
}

static void
test_resolve (gconstpointer data)
{
  const ResolveCase *c = data;
  g_autoptr(GazeEndpoint) endpoint = NULL;
  g_autoptr(GError) error = NULL;

  endpoint = gaze_endpoint_resolve (c->text, c->deployment, c->api_version, &error);

  if (c->code != OK)
    {
      g_assert_error (error, GAZE_ENDPOINT_ERROR, c->code);
      g_assert_null (endpoint);
      assert_error_message (error);
      return;
    }

  g_assert_no_error (error);
  g_assert_nonnull (endpoint);
  g_assert_cmpstr (endpoint->base_url, ==, c->expected_base_url);
  g_assert_cmpstr (endpoint->deployment, ==, c->expected_deployment);
  g_assert_cmpstr (endpoint->api_version, ==, c->expected_api_version);
  assert_base_url_is_clean (endpoint->base_url);
}

static void
test_chat_uri (gconstpointer data)
{
  const ChatUriCase *c = data;
  g_autoptr(GazeEndpoint) endpoint = NULL;
  g_autoptr(GazeEndpoint) again = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *uri = NULL;
  g_autofree char *uri_again = NULL;

  endpoint = gaze_endpoint_resolve (c->text, c->deployment, c->api_version, &error);
  g_assert_no_error (error);

  uri = gaze_endpoint_dup_chat_uri (endpoint);
  g_assert_cmpstr (uri, ==, c->uri);
  g_assert_true (g_uri_is_valid (uri, G_URI_FLAGS_ENCODED, NULL));

  /* The chat URI is what the portal shows as the target URI, so pasting
   * it must give the same endpoint back.
   */
  again = gaze_endpoint_parse (uri, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (again->base_url, ==, endpoint->base_url);
  g_assert_cmpstr (again->deployment, ==, endpoint->deployment);
  g_assert_cmpstr (again->api_version, ==, endpoint->api_version);

  uri_again = gaze_endpoint_dup_chat_uri (again);
  g_assert_cmpstr (uri_again, ==, uri);
}

static void
test_chat_uri_without_api_version (void)
{
  GazeEndpoint endpoint = {
    .base_url = (char *)"https://myres.openai.azure.com",
    .deployment = (char *)"gpt4v",
    .api_version = NULL,
  };
  g_autofree char *uri = gaze_endpoint_dup_chat_uri (&endpoint);

  g_assert_cmpstr (uri, ==,
                   RESOURCE "/openai/deployments/gpt4v" CHAT "2024-10-21");
}

static void
test_loopback (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (loopback_cases); i++)
    {
      const LoopbackCase *c = &loopback_cases[i];
      gboolean loopback = gaze_endpoint_host_is_loopback (c->host);

      if (loopback != c->loopback)
        g_error ("gaze_endpoint_host_is_loopback (“%s”) returned %s, expected %s",
                 c->host ? c->host : "(null)",
                 loopback ? "TRUE" : "FALSE",
                 c->loopback ? "TRUE" : "FALSE");
    }
}

static void
test_boxed_type (void)
{
  g_autoptr(GazeEndpoint) endpoint = gaze_endpoint_resolve ("myres", "gpt4v", NULL, NULL);
  GazeEndpoint *copy;

  g_assert_true (G_TYPE_IS_BOXED (GAZE_TYPE_ENDPOINT));
  copy = g_boxed_copy (GAZE_TYPE_ENDPOINT, endpoint);
  g_assert_cmpstr (copy->base_url, ==, endpoint->base_url);
  g_assert_cmpstr (copy->deployment, ==, "gpt4v");
  g_assert_cmpstr (copy->api_version, ==, "2024-10-21");
  g_boxed_free (GAZE_TYPE_ENDPOINT, copy);

  gaze_endpoint_free (NULL);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (parse_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/endpoint/parse/%s", parse_cases[i].name);
      g_test_add_data_func (path, &parse_cases[i], test_parse);
    }

  for (guint i = 0; i < G_N_ELEMENTS (resolve_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/endpoint/resolve/%s", resolve_cases[i].name);
      g_test_add_data_func (path, &resolve_cases[i], test_resolve);
    }

  for (guint i = 0; i < G_N_ELEMENTS (chat_uri_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/endpoint/chat-uri/%s", chat_uri_cases[i].name);
      g_test_add_data_func (path, &chat_uri_cases[i], test_chat_uri);
    }

  g_test_add_func ("/endpoint/parse/null", test_parse_null);
  g_test_add_func ("/endpoint/parse/resource-name-63", test_parse_resource_name_63);
  g_test_add_func ("/endpoint/chat-uri/without-api-version", test_chat_uri_without_api_version);
  g_test_add_func ("/endpoint/host-is-loopback", test_loopback);
  g_test_add_func ("/endpoint/boxed-type", test_boxed_type);

  /* Input nobody types, but that a paste or a broken setting can hold. */
  for (guint i = 0; i < G_N_ELEMENTS (hostile_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/endpoint/hostile/%s", hostile_cases[i].name);
      g_test_add_data_func (path, &hostile_cases[i], test_parse);
    }

  for (guint i = 0; i < G_N_ELEMENTS (long_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/endpoint/hostile/long/%s", long_cases[i].name);
      g_test_add_data_func (path, &long_cases[i], test_parse_long);
    }

  g_test_add_func ("/endpoint/hostile/random-bytes", test_parse_random_bytes);

  return g_test_run ();
}
