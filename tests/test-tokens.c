/* test-tokens.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "test-tokens"

#include "config.h"

#include <string.h>

#include "gaze-request.h"
#include "gaze-tokens.h"

static void
test_tokens_low (void)
{
  static const int sizes[][2] = {
    { 1, 1 }, { 512, 512 }, { 513, 513 }, { 6000, 4000 }, { 100000, 1 }, { G_MAXINT, G_MAXINT },
  };

  /* 85 tokens "regardless of the image size". */
  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    g_assert_cmpuint (gaze_tokens_for_image (sizes[i][0], sizes[i][1], GAZE_DETAIL_LOW), ==, 85);
}

static void
test_tokens_high (void)
{
  static const struct {
    int   width;
    int   height;
    guint tokens;
  } cases[] = {
    /* The documented example: 2048 × 4096 → 1024 × 2048 → 768 × 1536,
     * 2 × 3 tiles, 170 × 6 + 85. */
    { 2048, 4096, 1105 },
    /* A square that only needs the second step: 768 × 768, 2 × 2 tiles. */
    { 1024, 1024, 765 },
    { 4096, 8192, 1105 },

    /* One tile, and one pixel more; small images are not enlarged. */
    { 1, 1, 255 },
    { 100, 100, 255 },
    { 512, 512, 255 },
    { 513, 512, 425 },
    { 512, 513, 425 },
    { 768, 768, 765 },
    { 769, 769, 765 },

    /* What phones and cameras make, and what Gaze sends for them. */
    { 6000, 4000, 1105 },
    { 1152, 768, 1105 },
    { 4032, 3024, 765 },
    { 1024, 768, 765 },
    { 8845, 4421, 1105 },
    { 1536, 768, 1105 },
    { 1537, 768, 1445 },

    /* Long and thin: only the 2048 fit applies. */
    { 3000, 1000, 1445 },
    { 2000, 500, 765 },
    { 100000, 1, 765 },
    { G_MAXINT, G_MAXINT, 765 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_test_message ("%d × %d", cases[i].width, cases[i].height);
      g_assert_cmpuint (gaze_tokens_for_image (cases[i].width, cases[i].height, GAZE_DETAIL_HIGH),
                        ==, cases[i].tokens);
      g_assert_cmpuint (gaze_tokens_for_image (cases[i].height, cases[i].width, GAZE_DETAIL_HIGH),
                        ==, cases[i].tokens);

      /* The service decides for auto; the estimate assumes the worst. */
      g_assert_cmpuint (gaze_tokens_for_image (cases[i].width, cases[i].height, GAZE_DETAIL_AUTO),
                        ==, cases[i].tokens);
    }
}

/* Sending the prepared image never costs more than the original would. */
static void
test_tokens_prepared (void)
{
  for (int width = 1; width <= 12000; width += 37)
    for (int height = 1; height <= 12000; height += 53)
      {
        int fit_width;
        int fit_height;

        gaze_detail_fit_size (GAZE_DETAIL_HIGH, width, height, &fit_width, &fit_height);

        if (gaze_tokens_for_image (fit_width, fit_height, GAZE_DETAIL_HIGH) >
            gaze_tokens_for_image (width, height, GAZE_DETAIL_HIGH))
          g_test_fail_printf ("%d × %d costs more once prepared as %d × %d",
                              width, height, fit_width, fit_height);
      }
}

static GazeImage *
make_image (int        width,
            int        height,
            GazeDetail detail)
{
  g_autoptr(GdkPixbuf) pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, width, height);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  char *buffer = NULL;
  gsize len = 0;
  GazeImage *image;

  gdk_pixbuf_fill (pixbuf, 0x336699ff);
  gdk_pixbuf_save_to_buffer (pixbuf, &buffer, &len, "png", &error, NULL);
  g_assert_no_error (error);
  bytes = g_bytes_new_take (buffer, len);

  image = gaze_image_prepare_bytes (bytes, "sample.png", detail, NULL, &error);
  g_assert_no_error (error);

  return image;
}

static void
test_tokens_images (void)
{
  g_autoptr(GPtrArray) images = g_ptr_array_new_with_free_func (g_object_unref);

  g_assert_cmpuint (gaze_tokens_for_images (NULL), ==, 0);
  g_assert_cmpuint (gaze_tokens_for_images (images), ==, 0);

  /* Prepared as 1152 × 768, 512 × 341 and 300 × 200. */
  g_ptr_array_add (images, make_image (3000, 2000, GAZE_DETAIL_HIGH));
  g_assert_cmpuint (gaze_tokens_for_images (images), ==, 1105);

  g_ptr_array_add (images, make_image (3000, 2000, GAZE_DETAIL_LOW));
  g_assert_cmpuint (gaze_tokens_for_images (images), ==, 1105 + 85);

  g_ptr_array_add (images, make_image (300, 200, GAZE_DETAIL_AUTO));
  g_assert_cmpuint (gaze_tokens_for_images (images), ==, 1105 + 85 + 255);
}

/*
 * What a request may carry
 */

/* Random pixels, the worst case for JPEG: about 2 MB prepared. */
static GazeImage *
make_noise_image (void)
{
  g_autoptr(GdkPixbuf) pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, 2000, 768);
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  guint8 *pixels = gdk_pixbuf_get_pixels (pixbuf);
  int stride = gdk_pixbuf_get_rowstride (pixbuf);
  char *buffer = NULL;
  gsize len = 0;
  GazeImage *image;

  for (int y = 0; y < 768; y++)
    for (int x = 0; x < 2000 * 3; x++)
      pixels[(gsize) y * stride + x] = g_rand_int_range (rand, 0, 256);

  gdk_pixbuf_save_to_buffer (pixbuf, &buffer, &len, "png", &error, "compression", "1", NULL);
  g_assert_no_error (error);
  bytes = g_bytes_new_take (buffer, len);

  image = gaze_image_prepare_bytes (bytes, "noise.png", GAZE_DETAIL_HIGH, NULL, &error);
  g_assert_no_error (error);

  return image;
}

static GPtrArray *
repeat_image (GazeImage *image,
              guint      count)
{
  GPtrArray *images = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < count; i++)
    g_ptr_array_add (images, g_object_ref (image));

  return images;
}

/* The estimate is never below the body, and not far above it. */
static void
assert_estimate (GazeRequest *request)
{
  g_autoptr(GBytes) body = gaze_request_to_bytes (request);
  gsize estimate = gaze_request_estimate_size (request);

  g_test_message ("body %" G_GSIZE_FORMAT ", estimate %" G_GSIZE_FORMAT,
                  g_bytes_get_size (body), estimate);
  g_assert_cmpuint (estimate, >=, g_bytes_get_size (body));
  g_assert_cmpuint (estimate, <=, g_bytes_get_size (body) + 2048);
}

static void
test_request_estimate (void)
{
  static const char * const api_versions[] = { "2024-10-21", "2023-08-01-preview" };
  g_autoptr(GazeImage) image = make_image (3000, 2000, GAZE_DETAIL_HIGH);
  g_autoptr(GPtrArray) images = repeat_image (image, 3);

  for (guint i = 0; i < G_N_ELEMENTS (api_versions); i++)
    {
      g_autoptr(GazeRequest) request = gaze_request_new (api_versions[i]);

      assert_estimate (request);

      gaze_request_set_system_prompt (request, "Answer in one \"short\" sentence.\n\tThanks.");
      gaze_request_add_user_message (request,
                                     "What is in these photos? Ünïcödé, 日本語, 🙂",
                                     images);
      assert_estimate (request);

      gaze_request_add_assistant_message (request, "Three blue rectangles.\001");
      gaze_request_add_user_message (request, "And now?", NULL);
      gaze_request_set_stream (request, TRUE);
      assert_estimate (request);
    }
}

static void
test_request_count (void)
{
  g_autoptr(GazeImage) image = make_image (64, 48, GAZE_DETAIL_LOW);
  g_autoptr(GPtrArray) five = repeat_image (image, 5);
  g_autoptr(GPtrArray) six = repeat_image (image, 6);
  g_autoptr(GPtrArray) eleven = repeat_image (image, GAZE_MAX_IMAGES_PER_REQUEST + 1);
  g_autoptr(GError) error = NULL;

  /* The limit is per request: the service counts the images of earlier
   * turns too. Five and five are ten.
   */
  {
    g_autoptr(GazeRequest) request = gaze_request_new (NULL);

    gaze_request_add_user_message (request, "First", five);
    gaze_request_add_assistant_message (request, "Five photos.");
    gaze_request_add_user_message (request, "Second", five);
    g_assert_cmpuint (gaze_request_get_n_images (request), ==, 10);
    g_assert_true (gaze_request_check (request, &error));
    g_assert_no_error (error);
  }

  /* Eleven spread over two messages are refused, before anything is sent. */
  {
    g_autoptr(GazeRequest) request = gaze_request_new (NULL);

    gaze_request_add_user_message (request, "First", six);
    gaze_request_add_assistant_message (request, "Six photos.");
    gaze_request_add_user_message (request, "Second", five);
    g_assert_cmpuint (gaze_request_get_n_images (request), ==, 11);
    g_assert_false (gaze_request_check (request, &error));
    g_assert_error (error, GAZE_IMAGE_ERROR, GAZE_IMAGE_ERROR_TOO_MANY);
    g_assert_nonnull (strstr (error->message, "at most 10 photos"));
    g_clear_error (&error);
  }

  /* The same, with the first photo of the earlier turn left out, fits. */
  {
    g_autoptr(GazeRequest) request = gaze_request_new (NULL);

    gaze_request_add_user_message_full (request, "First", six, 1);
    gaze_request_add_assistant_message (request, "Six photos.");
    gaze_request_add_user_message (request, "Second", five);
    g_assert_cmpuint (gaze_request_get_n_images (request), ==, 10);
    g_assert_true (gaze_request_check (request, &error));
    g_assert_no_error (error);
  }

  /* Eleven in one message, as before. */
  {
    g_autoptr(GazeRequest) request = gaze_request_new (NULL);

    gaze_request_add_user_message (request, "Eleven", eleven);
    g_assert_false (gaze_request_check (request, &error));
    g_assert_error (error, GAZE_IMAGE_ERROR, GAZE_IMAGE_ERROR_TOO_MANY);
  }
}

static void
test_request_size (void)
{
  g_autoptr(GazeImage) noise = make_noise_image ();
  g_autoptr(GPtrArray) images = repeat_image (noise, GAZE_MAX_IMAGES_PER_REQUEST);
  g_autoptr(GazeRequest) request = gaze_request_new (NULL);
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *expected = NULL;
  gsize estimate;

  g_test_message ("One noisy photo is %" G_GSIZE_FORMAT " bytes",
                  g_bytes_get_size (gaze_image_get_jpeg (noise)));
  g_assert_cmpuint (g_bytes_get_size (gaze_image_get_jpeg (noise)), >, 1000000);

  /* Ten noisy photos fit; ten are all a request may carry, so it takes
   * long text besides them, such as a pasted log, to pass the limit.
   */
  gaze_request_add_user_message (request, "What is this?", images);
  g_assert_true (gaze_request_check (request, &error));
  g_assert_no_error (error);

  {
    g_autofree char *long_text = g_strnfill (8 * 1000 * 1000, 'x');

    gaze_request_add_assistant_message (request, "Static.");
    gaze_request_add_user_message (request, long_text, NULL);
  }
  estimate = gaze_request_estimate_size (request);
  body = gaze_request_to_bytes (request);
  g_assert_cmpuint (g_bytes_get_size (body), >, GAZE_MAX_REQUEST_SIZE);
  g_assert_cmpuint (estimate, >=, g_bytes_get_size (body));

  g_assert_false (gaze_request_check (request, &error));
  g_assert_error (error, GAZE_IMAGE_ERROR, GAZE_IMAGE_ERROR_REQUEST_TOO_LARGE);
  expected = g_strdup_printf ("These photos make the question too large to send "
                              "(%u MB; Azure takes 20 MB). Remove a photo or use low detail.",
                              (guint) ((estimate + 999999) / 1000000));
  g_assert_cmpstr (error->message, ==, expected);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/tokens/low", test_tokens_low);
  g_test_add_func ("/tokens/high", test_tokens_high);
  g_test_add_func ("/tokens/prepared", test_tokens_prepared);
  g_test_add_func ("/tokens/images", test_tokens_images);
  g_test_add_func ("/limits/request-estimate", test_request_estimate);
  g_test_add_func ("/limits/request-count", test_request_count);
  g_test_add_func ("/limits/request-size", test_request_size);

  return g_test_run ();
}
