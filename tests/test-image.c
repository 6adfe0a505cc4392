/* test-image.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "test-image"

#include "config.h"

#include <string.h>

#include <glib/gstdio.h>

#include "gaze-image.h"

/* JPEG moves colours around a little, most of all near edges. */
#define COLOUR_TOLERANCE 48

typedef enum
{
  CORNER_TOP_LEFT,
  CORNER_TOP_RIGHT,
  CORNER_BOTTOM_LEFT,
  CORNER_BOTTOM_RIGHT,
} Corner;

static GBytes *large_jpeg;

/*
 * Making sample images
 */

static void
fill_rect (GdkPixbuf *pixbuf,
           int        x0,
           int        y0,
           int        width,
           int        height,
           guint32    rgba)
{
  guint8 *pixels = gdk_pixbuf_get_pixels (pixbuf);
  int stride = gdk_pixbuf_get_rowstride (pixbuf);
  int n_channels = gdk_pixbuf_get_n_channels (pixbuf);

  for (int y = y0; y < y0 + height; y++)
    {
      guint8 *p = pixels + (gsize) y * stride + (gsize) x0 * n_channels;

      for (int x = 0; x < width; x++)
        {
          p[0] = rgba >> 24;
          p[1] = (rgba >> 16) & 0xff;
          p[2] = (rgba >> 8) & 0xff;
          if (n_channels == 4)
            p[3] = rgba & 0xff;
          p += n_channels;
        }
    }
}

static GdkPixbuf *
make_pixbuf (int      width,
             int      height,
             gboolean has_alpha,
             guint32  rgba)
{
  GdkPixbuf *pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, has_alpha, 8, width, height);

  g_assert_nonnull (pixbuf);
  gdk_pixbuf_fill (pixbuf, rgba);

  return pixbuf;
}

static GdkPixbuf *
make_noise_pixbuf (int width,
                   int height)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (42);
  GdkPixbuf *pixbuf = make_pixbuf (width, height, FALSE, 0);
  guint8 *pixels = gdk_pixbuf_get_pixels (pixbuf);
  int stride = gdk_pixbuf_get_rowstride (pixbuf);

  for (int y = 0; y < height; y++)
    for (int x = 0; x < width * 3; x++)
      pixels[(gsize) y * stride + x] = g_rand_int_range (rand, 0, 256);

  return pixbuf;
}

static GBytes *
save_pixbuf (GdkPixbuf  *pixbuf,
             const char *type)
{
  g_autoptr(GError) error = NULL;
  char *buffer = NULL;
  gsize len = 0;

  if (g_str_equal (type, "jpeg"))
    gdk_pixbuf_save_to_buffer (pixbuf, &buffer, &len, type, &error, "quality", "95", NULL);
  else
    gdk_pixbuf_save_to_buffer (pixbuf, &buffer, &len, type, &error, NULL);

  g_assert_no_error (error);

  return g_bytes_new_take (buffer, len);
}

/* A 6000×4000 photo, made once: it takes a moment. */
static GBytes *
get_large_jpeg (void)
{
  if (large_jpeg == NULL)
    {
      g_autoptr(GdkPixbuf) pixbuf = make_pixbuf (6000, 4000, FALSE, 0x2060a0ff);

      fill_rect (pixbuf, 0, 0, 3000, 2000, 0xe02020ff);
      large_jpeg = save_pixbuf (pixbuf, "jpeg");
    }

  return g_bytes_ref (large_jpeg);
}

static void
append_uint16 (GByteArray *array,
               guint16     value)
{
  guint8 data[2] = { value >> 8, value & 0xff };

  g_byte_array_append (array, data, sizeof data);
}

static void
append_uint32 (GByteArray *array,
               guint32     value)
{
  guint8 data[4] = { value >> 24, (value >> 16) & 0xff, (value >> 8) & 0xff, value & 0xff };

  g_byte_array_append (array, data, sizeof data);
}

static void
append_ifd_entry (GByteArray *array,
                  guint16     tag,
                  guint16     type,
                  guint32     count,
                  guint32     value)
{
  append_uint16 (array, tag);
  append_uint16 (array, type);
  append_uint32 (array, count);
  append_uint32 (array, value);
}

/* Returns a copy of @jpeg with an APP1 Exif segment right after SOI: a
 * big-endian TIFF block whose IFD0 holds ImageDescription (set to
 * @marker), Orientation and a GPS IFD with a latitude reference, and, when
 * @with_icc, an APP2 ICC profile segment that also carries @marker. */
static GBytes *
insert_exif (GBytes     *jpeg,
             int         orientation,
             const char *marker,
             gboolean    with_icc)
{
  g_autoptr(GByteArray) tiff = g_byte_array_new ();
  g_autoptr(GByteArray) out = g_byte_array_new ();
  const guint8 *data;
  gsize len;
  const guint gps_offset = 50;
  const guint description_offset = 80;
  static const guint8 exif_id[6] = { 'E', 'x', 'i', 'f', 0, 0 };
  /* The identifier, then "chunk 1 of 1". */
  static const guint8 icc_id[14] = {
    'I', 'C', 'C', '_', 'P', 'R', 'O', 'F', 'I', 'L', 'E', 0, 1, 1
  };

  data = g_bytes_get_data (jpeg, &len);
  g_assert_cmpuint (len, >, 2);
  g_assert_cmpuint (data[0], ==, 0xff);
  g_assert_cmpuint (data[1], ==, 0xd8);

  g_byte_array_append (tiff, (const guint8 *) "MM", 2);
  append_uint16 (tiff, 42);
  append_uint32 (tiff, 8);

  /* IFD0, entries sorted by tag. A SHORT value sits in the first half. */
  append_uint16 (tiff, 3);
  append_ifd_entry (tiff, 0x010e, 2, strlen (marker) + 1, description_offset);
  append_ifd_entry (tiff, 0x0112, 3, 1, (guint32) orientation << 16);
  append_ifd_entry (tiff, 0x8825, 4, 1, gps_offset);
  append_uint32 (tiff, 0);
  g_assert_cmpuint (tiff->len, ==, gps_offset);

  /* GPS IFD: GPSVersionID 2.2.0.0 and GPSLatitudeRef "N". */
  append_uint16 (tiff, 2);
  append_ifd_entry (tiff, 0x0000, 1, 4, 0x02020000);
  append_ifd_entry (tiff, 0x0001, 2, 2, 0x4e000000);
  append_uint32 (tiff, 0);
  g_assert_cmpuint (tiff->len, ==, description_offset);

  g_byte_array_append (tiff, (const guint8 *) marker, strlen (marker) + 1);

  g_byte_array_append (out, data, 2);
  append_uint16 (out, 0xffe1);
  append_uint16 (out, 2 + sizeof exif_id + tiff->len);
  g_byte_array_append (out, exif_id, sizeof exif_id);
  g_byte_array_append (out, tiff->data, tiff->len);

  if (with_icc)
    {
      append_uint16 (out, 0xffe2);
      append_uint16 (out, 2 + sizeof icc_id + strlen (marker));
      g_byte_array_append (out, icc_id, sizeof icc_id);
      g_byte_array_append (out, (const guint8 *) marker, strlen (marker));
    }

  g_byte_array_append (out, data + 2, len - 2);

  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

/* Returns the offset of the first segment with @code before the image
 * data, or -1. */
static gssize
find_jpeg_segment (GBytes *jpeg,
                   guint8  code)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (jpeg, &len);
  gsize pos = 2;

  while (pos + 4 <= len && data[pos] == 0xff && data[pos + 1] != 0xda)
    {
      if (data[pos + 1] == code)
        return pos;
      pos += 2 + ((data[pos + 2] << 8) | data[pos + 3]);
    }

  return -1;
}

static gboolean
bytes_contain (GBytes     *bytes,
               const char *needle)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);
  gsize needle_len = strlen (needle);

  for (gsize i = 0; i + needle_len <= len; i++)
    if (memcmp (data + i, needle, needle_len) == 0)
      return TRUE;

  return FALSE;
}

static guint32
crc32_of (const guint8 *data,
          gsize         len)
{
  guint32 crc = 0xffffffff;

  for (gsize i = 0; i < len; i++)
    {
      crc ^= data[i];
      for (int k = 0; k < 8; k++)
        crc = (crc >> 1) ^ (0xedb88320 & -(crc & 1));
    }

  return ~crc;
}

static void
append_png_chunk (GByteArray   *png,
                  const char   *type,
                  const guint8 *data,
                  gsize         len)
{
  gsize start;

  append_uint32 (png, len);
  start = png->len;
  g_byte_array_append (png, (const guint8 *) type, 4);
  if (len > 0)
    g_byte_array_append (png, data, len);
  append_uint32 (png, crc32_of (png->data + start, png->len - start));
}

/* A well-formed PNG header for an image of @width × @height, followed by
 * the start of some image data: enough for libpng to report the size. */
static GBytes *
make_png_header (guint32 width,
                 guint32 height)
{
  static const guint8 signature[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
  static const guint8 idat[] = { 0x78, 0x9c, 0x63, 0x60, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01 };
  g_autoptr(GByteArray) png = g_byte_array_new ();
  g_autoptr(GByteArray) ihdr = g_byte_array_new ();
  static const guint8 rest[5] = { 8, 2, 0, 0, 0 };

  append_uint32 (ihdr, width);
  append_uint32 (ihdr, height);
  g_byte_array_append (ihdr, rest, sizeof rest);

  g_byte_array_append (png, signature, sizeof signature);
  append_png_chunk (png, "IHDR", ihdr->data, ihdr->len);
  append_png_chunk (png, "IDAT", idat, sizeof idat);
  append_png_chunk (png, "IEND", NULL, 0);

  return g_byte_array_free_to_bytes (g_steal_pointer (&png));
}

/* A small valid JPEG whose frame header claims @width × @height. */
static GBytes *
make_jpeg_claiming (guint16 width,
                    guint16 height)
{
  g_autoptr(GdkPixbuf) pixbuf = make_pixbuf (16, 16, FALSE, 0x336699ff);
  g_autoptr(GBytes) jpeg = save_pixbuf (pixbuf, "jpeg");
  gssize sof = find_jpeg_segment (jpeg, 0xc0);
  gsize len = g_bytes_get_size (jpeg);
  guint8 *data = g_memdup2 (g_bytes_get_data (jpeg, NULL), len);

  g_assert_cmpint (sof, >, 0);
  data[sof + 5] = height >> 8;
  data[sof + 6] = height & 0xff;
  data[sof + 7] = width >> 8;
  data[sof + 8] = width & 0xff;

  return g_bytes_new_take (data, len);
}

/*
 * Checking results
 */

static GazeImage *
prepare_ok (GBytes     *bytes,
            const char *name,
            GazeDetail  detail)
{
  g_autoptr(GError) error = NULL;
  GazeImage *image;

  image = gaze_image_prepare_bytes (bytes, name, detail, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (GAZE_IS_IMAGE (image));

  return image;
}

static void
assert_prepare_fails (GBytes         *bytes,
                      const char     *name,
                      GazeImageError  code)
{
  g_autoptr(GazeImage) image = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *quoted = g_strdup_printf ("“%s”", name);

  image = gaze_image_prepare_bytes (bytes, name, GAZE_DETAIL_HIGH, NULL, &error);
  g_assert_null (image);
  g_assert_error (error, GAZE_IMAGE_ERROR, (int) code);
  g_assert_nonnull (strstr (error->message, quoted));
  g_test_message ("%s: %s", name, error->message);
}

static GdkPixbuf *
decode_jpeg (GBytes *jpeg)
{
  g_autoptr(GdkPixbufLoader) loader = NULL;
  g_autoptr(GError) error = NULL;
  gsize len;
  const guint8 *data = g_bytes_get_data (jpeg, &len);

  g_assert_cmpuint (len, >, 4);
  g_assert_cmpuint (data[0], ==, 0xff);
  g_assert_cmpuint (data[1], ==, 0xd8);

  loader = gdk_pixbuf_loader_new_with_type ("jpeg", &error);
  g_assert_no_error (error);
  gdk_pixbuf_loader_write_bytes (loader, jpeg, &error);
  g_assert_no_error (error);
  gdk_pixbuf_loader_close (loader, &error);
  g_assert_no_error (error);

  return g_object_ref (gdk_pixbuf_loader_get_pixbuf (loader));
}

/* Checks everything that must hold for any prepared image. */
static void
assert_image (GazeImage *image,
              int        width,
              int        height)
{
  g_autoptr(GdkPixbuf) decoded = NULL;
  g_autoptr(GdkPixbuf) decoded64 = NULL;
  g_autoptr(GBytes) from_base64 = NULL;
  g_autoptr(GHashTable) options = NULL;
  GdkPixbuf *pixbuf;
  guchar *data;
  gsize len;

  g_assert_cmpint (gaze_image_get_width (image), ==, width);
  g_assert_cmpint (gaze_image_get_height (image), ==, height);

  pixbuf = gaze_image_get_pixbuf (image);
  g_assert_true (GDK_IS_PIXBUF (pixbuf));
  g_assert_false (gdk_pixbuf_get_has_alpha (pixbuf));
  g_assert_cmpint (gdk_pixbuf_get_n_channels (pixbuf), ==, 3);
  g_assert_cmpint (gdk_pixbuf_get_width (pixbuf), ==, width);
  g_assert_cmpint (gdk_pixbuf_get_height (pixbuf), ==, height);

  /* No metadata from the file rides along on the pixels, either. */
  options = gdk_pixbuf_get_options (pixbuf);
  g_assert_cmpuint (g_hash_table_size (options), ==, 0);

  decoded = decode_jpeg (gaze_image_get_jpeg (image));
  g_assert_cmpint (gdk_pixbuf_get_width (decoded), ==, width);
  g_assert_cmpint (gdk_pixbuf_get_height (decoded), ==, height);

  data = g_base64_decode (gaze_image_get_base64 (image), &len);
  from_base64 = g_bytes_new_take (data, len);
  g_assert_true (g_bytes_equal (from_base64, gaze_image_get_jpeg (image)));
  decoded64 = decode_jpeg (from_base64);
  g_assert_cmpint (gdk_pixbuf_get_width (decoded64), ==, width);
  g_assert_cmpint (gdk_pixbuf_get_height (decoded64), ==, height);
}

static void
assert_pixel (GdkPixbuf *pixbuf,
              int        x,
              int        y,
              guint32    rgb)
{
  const guint8 *p = gdk_pixbuf_read_pixels (pixbuf)
                    + (gsize) y * gdk_pixbuf_get_rowstride (pixbuf)
                    + (gsize) x * gdk_pixbuf_get_n_channels (pixbuf);
  int r = rgb >> 16;
  int g = (rgb >> 8) & 0xff;
  int b = rgb & 0xff;

  if (ABS (p[0] - r) > COLOUR_TOLERANCE ||
      ABS (p[1] - g) > COLOUR_TOLERANCE ||
      ABS (p[2] - b) > COLOUR_TOLERANCE)
    g_test_fail_printf ("Pixel (%d, %d) is #%02x%02x%02x, expected about #%06x",
                        x, y, p[0], p[1], p[2], rgb);
}

/*
 * Detail
 */

static void
test_detail_strings (void)
{
  static const GazeDetail details[] = { GAZE_DETAIL_AUTO, GAZE_DETAIL_LOW, GAZE_DETAIL_HIGH };
  static const char * const bad[] = { "", "Auto", "LOW", "medium", "high ", "auto\n" };
  GazeDetail detail;

  g_assert_cmpstr (gaze_detail_to_string (GAZE_DETAIL_AUTO), ==, "auto");
  g_assert_cmpstr (gaze_detail_to_string (GAZE_DETAIL_LOW), ==, "low");
  g_assert_cmpstr (gaze_detail_to_string (GAZE_DETAIL_HIGH), ==, "high");

  for (guint i = 0; i < G_N_ELEMENTS (details); i++)
    {
      g_assert_true (gaze_detail_from_string (gaze_detail_to_string (details[i]), &detail));
      g_assert_cmpint (detail, ==, details[i]);
    }

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      detail = GAZE_DETAIL_LOW;
      g_assert_false (gaze_detail_from_string (bad[i], &detail));
      g_assert_cmpint (detail, ==, GAZE_DETAIL_LOW);
    }

  g_assert_false (gaze_detail_from_string (NULL, &detail));

  /* The enum type's nicks are the same strings, for GSettings and GtkBuilder. */
  for (guint i = 0; i < G_N_ELEMENTS (details); i++)
    {
      g_autoptr(GEnumClass) klass = g_type_class_ref (GAZE_TYPE_DETAIL);

      g_assert_cmpstr (g_enum_get_value (klass, details[i])->value_nick,
                       ==,
                       gaze_detail_to_string (details[i]));
    }
}

static void
test_detail_fit_size (void)
{
  static const struct {
    GazeDetail detail;
    int width;
    int height;
    int fit_width;
    int fit_height;
  } cases[] = {
    /* The examples from the product's rules. */
    { GAZE_DETAIL_LOW, 6000, 4000, 512, 341 },
    { GAZE_DETAIL_HIGH, 6000, 4000, 1152, 768 },
    { GAZE_DETAIL_AUTO, 6000, 4000, 1152, 768 },
    { GAZE_DETAIL_HIGH, 4000, 6000, 768, 1152 },
    { GAZE_DETAIL_LOW, 4000, 6000, 341, 512 },
    { GAZE_DETAIL_LOW, 100, 50, 100, 50 },
    { GAZE_DETAIL_HIGH, 100, 50, 100, 50 },
    { GAZE_DETAIL_AUTO, 100, 50, 100, 50 },

    /* Exactly at the limits, and one pixel over. */
    { GAZE_DETAIL_LOW, 512, 512, 512, 512 },
    { GAZE_DETAIL_LOW, 513, 513, 512, 512 },
    { GAZE_DETAIL_HIGH, 768, 768, 768, 768 },
    { GAZE_DETAIL_HIGH, 769, 769, 768, 768 },
    { GAZE_DETAIL_HIGH, 2000, 768, 2000, 768 },
    { GAZE_DETAIL_HIGH, 2001, 700, 2000, 700 },
    { GAZE_DETAIL_HIGH, 1024, 1024, 768, 768 },
    { GAZE_DETAIL_HIGH, 4032, 3024, 1024, 768 },
    { GAZE_DETAIL_LOW, 4032, 3024, 512, 384 },

    /* Tiny images are never made larger. */
    { GAZE_DETAIL_LOW, 1, 1, 1, 1 },
    { GAZE_DETAIL_HIGH, 1, 1, 1, 1 },
    { GAZE_DETAIL_HIGH, 3, 700, 3, 700 },

    /* Extreme aspect ratios: the long side limits, the short side never
     * drops below one pixel. */
    { GAZE_DETAIL_HIGH, 10000, 100, 2000, 20 },
    { GAZE_DETAIL_LOW, 10000, 100, 512, 5 },
    { GAZE_DETAIL_HIGH, 100, 10000, 20, 2000 },
    { GAZE_DETAIL_LOW, 100000, 1, 512, 1 },
    { GAZE_DETAIL_HIGH, 1, 100000, 1, 2000 },
    { GAZE_DETAIL_HIGH, 65535, 65535, 768, 768 },
    { GAZE_DETAIL_LOW, G_MAXINT, G_MAXINT, 512, 512 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      int width = -1;
      int height = -1;

      gaze_detail_fit_size (cases[i].detail, cases[i].width, cases[i].height, &width, &height);
      g_assert_cmpint (width, ==, cases[i].fit_width);
      g_assert_cmpint (height, ==, cases[i].fit_height);

      /* Swapping the sides swaps the result, so orientation can wait. */
      gaze_detail_fit_size (cases[i].detail, cases[i].height, cases[i].width, &width, &height);
      g_assert_cmpint (width, ==, cases[i].fit_height);
      g_assert_cmpint (height, ==, cases[i].fit_width);
    }
}

/*
 * Preparing
 */

static void
test_prepare_large_jpeg (void)
{
  g_autoptr(GBytes) jpeg = get_large_jpeg ();
  g_autoptr(GazeImage) low = NULL;
  g_autoptr(GazeImage) high = NULL;
  g_autoptr(GazeImage) automatic = NULL;

  low = prepare_ok (jpeg, "IMG_0001.JPG", GAZE_DETAIL_LOW);
  assert_image (low, 512, 341);
  g_assert_cmpstr (gaze_image_get_name (low), ==, "IMG_0001.JPG");
  g_assert_cmpint (gaze_image_get_detail (low), ==, GAZE_DETAIL_LOW);
  g_assert_cmpint (gaze_image_get_source_width (low), ==, 6000);
  g_assert_cmpint (gaze_image_get_source_height (low), ==, 4000);

  /* The red quarter is still the top-left quarter. */
  assert_pixel (gaze_image_get_pixbuf (low), 100, 100, 0xe02020);
  assert_pixel (gaze_image_get_pixbuf (low), 400, 300, 0x2060a0);

  high = prepare_ok (jpeg, "IMG_0001.JPG", GAZE_DETAIL_HIGH);
  assert_image (high, 1152, 768);
  g_assert_cmpint (gaze_image_get_detail (high), ==, GAZE_DETAIL_HIGH);
  g_assert_cmpint (gaze_image_get_source_width (high), ==, 6000);
  g_assert_cmpint (gaze_image_get_source_height (high), ==, 4000);

  automatic = prepare_ok (jpeg, "IMG_0001.JPG", GAZE_DETAIL_AUTO);
  assert_image (automatic, 1152, 768);
  g_assert_cmpint (gaze_image_get_detail (automatic), ==, GAZE_DETAIL_AUTO);

  g_assert_finalize_object (g_steal_pointer (&low));
  g_assert_finalize_object (g_steal_pointer (&high));
  g_assert_finalize_object (g_steal_pointer (&automatic));
}

/* For each EXIF orientation, the corner of the stored pixels that a viewer
 * shows at the top left. */
static const Corner shown_top_left[] = {
  [1] = CORNER_TOP_LEFT,
  [2] = CORNER_TOP_RIGHT,
  [3] = CORNER_BOTTOM_RIGHT,
  [4] = CORNER_BOTTOM_LEFT,
  [5] = CORNER_TOP_LEFT,
  [6] = CORNER_BOTTOM_LEFT,
  [7] = CORNER_BOTTOM_RIGHT,
  [8] = CORNER_TOP_RIGHT,
};

static void
test_prepare_orientation (void)
{
  const int stored_width = 600;
  const int stored_height = 400;
  const guint32 red = 0xe02020;
  const guint32 blue = 0x2060a0;

  for (int orientation = 1; orientation <= 8; orientation++)
    {
      g_autoptr(GdkPixbuf) pixbuf = NULL;
      g_autoptr(GBytes) plain = NULL;
      g_autoptr(GBytes) jpeg = NULL;
      Corner corner = shown_top_left[orientation];
      gboolean turned = orientation >= 5;
      int x0 = (corner == CORNER_TOP_LEFT || corner == CORNER_BOTTOM_LEFT) ? 0 : stored_width / 2;
      int y0 = (corner == CORNER_TOP_LEFT || corner == CORNER_TOP_RIGHT) ? 0 : stored_height / 2;

      g_test_message ("Orientation %d", orientation);

      pixbuf = make_pixbuf (stored_width, stored_height, FALSE, blue << 8 | 0xff);
      fill_rect (pixbuf, x0, y0, stored_width / 2, stored_height / 2, red << 8 | 0xff);
      plain = save_pixbuf (pixbuf, "jpeg");
      jpeg = insert_exif (plain, orientation, "orientation test", FALSE);

      for (GazeDetail detail = GAZE_DETAIL_LOW; detail <= GAZE_DETAIL_HIGH; detail++)
        {
          g_autoptr(GazeImage) image = prepare_ok (jpeg, "turned.jpg", detail);
          int width = detail == GAZE_DETAIL_LOW ? 512 : 600;
          int height = detail == GAZE_DETAIL_LOW ? 341 : 400;
          GdkPixbuf *prepared;

          if (turned)
            {
              int swap = width;

              width = height;
              height = swap;
            }

          assert_image (image, width, height);
          g_assert_cmpint (gaze_image_get_source_width (image), ==, turned ? 400 : 600);
          g_assert_cmpint (gaze_image_get_source_height (image), ==, turned ? 600 : 400);

          prepared = gaze_image_get_pixbuf (image);
          assert_pixel (prepared, 16, 16, red);
          assert_pixel (prepared, width - 17, 16, blue);
          assert_pixel (prepared, 16, height - 17, blue);
          assert_pixel (prepared, width - 17, height - 17, blue);
        }
    }
}

static void
test_prepare_orientation_large (void)
{
  g_autoptr(GBytes) plain = get_large_jpeg ();
  g_autoptr(GBytes) jpeg = insert_exif (plain, 6, "Pixel 8", FALSE);
  g_autoptr(GazeImage) image = NULL;

  image = prepare_ok (jpeg, "PXL_20240601.jpg", GAZE_DETAIL_HIGH);
  assert_image (image, 768, 1152);
  g_assert_cmpint (gaze_image_get_source_width (image), ==, 4000);
  g_assert_cmpint (gaze_image_get_source_height (image), ==, 6000);

  /* Turned clockwise, the stored top-left quarter is now the top-right. */
  assert_pixel (gaze_image_get_pixbuf (image), 700, 100, 0xe02020);
  assert_pixel (gaze_image_get_pixbuf (image), 100, 100, 0x2060a0);
}

static void
test_prepare_alpha (void)
{
  g_autoptr(GdkPixbuf) pixbuf = make_pixbuf (64, 64, TRUE, 0x00000000);
  g_autoptr(GBytes) png = NULL;
  g_autoptr(GazeImage) image = NULL;
  GdkPixbuf *prepared;

  /* Left half fully transparent (and black underneath, which must not
   * show), right half opaque green, bottom right half-transparent red. */
  fill_rect (pixbuf, 32, 0, 32, 32, 0x00c000ff);
  fill_rect (pixbuf, 32, 32, 32, 32, 0xff000080);
  png = save_pixbuf (pixbuf, "png");

  image = prepare_ok (png, "sticker.png", GAZE_DETAIL_HIGH);
  assert_image (image, 64, 64);

  prepared = gaze_image_get_pixbuf (image);
  assert_pixel (prepared, 8, 8, 0xffffff);
  assert_pixel (prepared, 8, 56, 0xffffff);
  assert_pixel (prepared, 56, 8, 0x00c000);
  assert_pixel (prepared, 56, 56, 0xff7f7f);
}

static void
test_prepare_no_upscale (void)
{
  g_autoptr(GdkPixbuf) pixbuf = make_pixbuf (300, 200, FALSE, 0x808080ff);
  g_autoptr(GBytes) jpeg = save_pixbuf (pixbuf, "jpeg");
  g_autoptr(GBytes) png = save_pixbuf (pixbuf, "png");

  for (GazeDetail detail = GAZE_DETAIL_AUTO; detail <= GAZE_DETAIL_HIGH; detail++)
    {
      g_autoptr(GazeImage) from_jpeg = prepare_ok (jpeg, "small.jpg", detail);
      g_autoptr(GazeImage) from_png = prepare_ok (png, "small.png", detail);

      assert_image (from_jpeg, 300, 200);
      assert_image (from_png, 300, 200);
      g_assert_cmpint (gaze_image_get_source_width (from_png), ==, 300);
      g_assert_cmpint (gaze_image_get_source_height (from_png), ==, 200);
    }
}

static void
test_prepare_metadata (void)
{
  static const char marker[] = "GAZE-SECRET-MARKER-51.5007N";
  g_autoptr(GdkPixbuf) pixbuf = make_pixbuf (320, 240, FALSE, 0x406080ff);
  g_autoptr(GBytes) plain = save_pixbuf (pixbuf, "jpeg");
  g_autoptr(GBytes) jpeg = insert_exif (plain, 1, marker, TRUE);
  g_autoptr(GazeImage) image = NULL;
  GBytes *prepared;

  /* The sample really carries the metadata. */
  g_assert_true (bytes_contain (jpeg, marker));
  g_assert_true (bytes_contain (jpeg, "Exif"));
  g_assert_cmpint (find_jpeg_segment (jpeg, 0xe1), >=, 0);
  g_assert_cmpint (find_jpeg_segment (jpeg, 0xe2), >=, 0);

  image = prepare_ok (jpeg, "holiday.jpg", GAZE_DETAIL_HIGH);
  assert_image (image, 320, 240);

  prepared = gaze_image_get_jpeg (image);
  g_assert_false (bytes_contain (prepared, marker));
  g_assert_false (bytes_contain (prepared, "Exif"));
  g_assert_false (bytes_contain (prepared, "ICC_PROFILE"));
  g_assert_cmpint (find_jpeg_segment (prepared, 0xe1), ==, -1);
  g_assert_cmpint (find_jpeg_segment (prepared, 0xe2), ==, -1);
}

static void
test_prepare_trailing_data (void)
{
  g_autoptr(GdkPixbuf) pixbuf = make_noise_pixbuf (120, 80);
  g_autoptr(GBytes) jpeg = save_pixbuf (pixbuf, "jpeg");
  g_autoptr(GByteArray) array = g_byte_array_new ();
  g_autoptr(GBytes) with_trailer = NULL;
  g_autoptr(GazeImage) image = NULL;
  guint8 trailer[4096];

  /* Phones append videos and maker data after the end of the image; the
   * picture is still whole. */
  memset (trailer, 0xff, sizeof trailer);
  memcpy (trailer + 100, "ftypmp42", 8);
  g_byte_array_append (array, g_bytes_get_data (jpeg, NULL), g_bytes_get_size (jpeg));
  g_byte_array_append (array, trailer, sizeof trailer);
  with_trailer = g_byte_array_free_to_bytes (g_steal_pointer (&array));

  image = prepare_ok (with_trailer, "MVIMG_0001.jpg", GAZE_DETAIL_HIGH);
  assert_image (image, 120, 80);
}

/*
 * Bad input
 */

static void
test_error_empty (void)
{
  g_autoptr(GBytes) empty = g_bytes_new_static ("", 0);

  assert_prepare_fails (empty, "empty.jpg", GAZE_IMAGE_ERROR_EMPTY);
}

static void
test_error_not_an_image (void)
{
  static const char text[] =
    "Shopping list:\n- oat milk\n- coffee beans\n- a new notebook for the trip\n"
    "Remember to call the plumber on Tuesday before the guests arrive.\n";
  g_autoptr(GBytes) notes = g_bytes_new_static (text, sizeof text - 1);
  g_autoptr(GBytes) short_text = g_bytes_new_static ("hi", 2);

  assert_prepare_fails (notes, "notes.txt", GAZE_IMAGE_ERROR_NOT_AN_IMAGE);
  assert_prepare_fails (short_text, "hi.txt", GAZE_IMAGE_ERROR_NOT_AN_IMAGE);
}

static void
test_error_truncated (void)
{
  g_autoptr(GdkPixbuf) pixbuf = make_noise_pixbuf (256, 256);
  g_autoptr(GBytes) jpeg = save_pixbuf (pixbuf, "jpeg");
  g_autoptr(GBytes) png = save_pixbuf (pixbuf, "png");
  g_autoptr(GBytes) half_jpeg = g_bytes_new_from_bytes (jpeg, 0, g_bytes_get_size (jpeg) / 2);
  g_autoptr(GBytes) half_png = g_bytes_new_from_bytes (png, 0, g_bytes_get_size (png) / 2);
  g_autoptr(GBytes) no_eoi = g_bytes_new_from_bytes (jpeg, 0, g_bytes_get_size (jpeg) - 2);
  g_autoptr(GBytes) header_only = g_bytes_new_from_bytes (jpeg, 0, 300);

  assert_prepare_fails (half_jpeg, "half.jpg", GAZE_IMAGE_ERROR_CORRUPT);
  assert_prepare_fails (half_png, "half.png", GAZE_IMAGE_ERROR_CORRUPT);
  assert_prepare_fails (no_eoi, "cut.jpg", GAZE_IMAGE_ERROR_CORRUPT);
  assert_prepare_fails (header_only, "header.jpg", GAZE_IMAGE_ERROR_CORRUPT);
}

static void
test_error_too_large (void)
{
  g_autoptr(GBytes) png = make_png_header (30000, 30000);
  g_autoptr(GBytes) wide_png = make_png_header (200001, 1000);
  g_autoptr(GBytes) jpeg = make_jpeg_claiming (65535, 65535);
  g_autoptr(GBytes) big_jpeg = make_jpeg_claiming (20000, 20000);
  g_autoptr(GazeImage) image = NULL;
  g_autoptr(GError) error = NULL;

  assert_prepare_fails (png, "pano.png", GAZE_IMAGE_ERROR_TOO_LARGE);
  assert_prepare_fails (wide_png, "strip.png", GAZE_IMAGE_ERROR_TOO_LARGE);
  assert_prepare_fails (jpeg, "huge.jpg", GAZE_IMAGE_ERROR_TOO_LARGE);
  assert_prepare_fails (big_jpeg, "big.jpg", GAZE_IMAGE_ERROR_TOO_LARGE);

  /* The message gives the size, so the person knows why. */
  image = gaze_image_prepare_bytes (png, "pano.png", GAZE_DETAIL_LOW, NULL, &error);
  g_assert_null (image);
  g_assert_error (error, GAZE_IMAGE_ERROR, GAZE_IMAGE_ERROR_TOO_LARGE);
  g_assert_nonnull (strstr (error->message, "30000 × 30000"));
  g_clear_error (&error);

  image = gaze_image_prepare_bytes (jpeg, "huge.jpg", GAZE_DETAIL_LOW, NULL, &error);
  g_assert_null (image);
  g_assert_nonnull (strstr (error->message, "65535 × 65535"));
}

/* Damaged copies of real images must never crash, and always end either
 * in an image or in one of our errors. */
static void
test_error_fuzz (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (20240601);
  g_autoptr(GdkPixbuf) noise = make_noise_pixbuf (48, 32);
  g_autoptr(GdkPixbuf) alpha = make_pixbuf (40, 30, TRUE, 0x11223380);
  g_autoptr(GBytes) plain = save_pixbuf (noise, "jpeg");
  GBytes *samples[] = {
    insert_exif (plain, 6, "fuzz", TRUE),
    save_pixbuf (noise, "png"),
    save_pixbuf (alpha, "png"),
  };
  guint n_images = 0;
  guint n_errors = 0;

  for (guint s = 0; s < G_N_ELEMENTS (samples); s++)
    {
      gsize len;
      const guint8 *data = g_bytes_get_data (samples[s], &len);

      for (guint i = 0; i < 300; i++)
        {
          g_autoptr(GazeImage) image = NULL;
          g_autoptr(GError) error = NULL;
          g_autoptr(GBytes) bytes = NULL;
          guint8 *copy = g_memdup2 (data, len);
          gsize copy_len = len;
          guint n_flips = g_rand_int_range (rand, 1, 9);

          for (guint f = 0; f < n_flips; f++)
            copy[g_rand_int_range (rand, 0, len)] = g_rand_int_range (rand, 0, 256);

          if (g_rand_boolean (rand))
            copy_len = g_rand_int_range (rand, 1, len);

          bytes = g_bytes_new_take (copy, copy_len);
          image = gaze_image_prepare_bytes (bytes, "fuzz.bin", g_rand_int_range (rand, 0, 3),
                                            NULL, &error);

          if (image != NULL)
            {
              g_assert_no_error (error);
              g_assert_cmpint (gaze_image_get_width (image), >, 0);
              g_assert_cmpint (gaze_image_get_height (image), >, 0);
              g_assert_cmpuint (g_bytes_get_size (gaze_image_get_jpeg (image)), >, 0);
              n_images++;
            }
          else
            {
              g_assert_nonnull (error);
              g_assert_true (error->domain == GAZE_IMAGE_ERROR);
              g_assert_nonnull (strstr (error->message, "“fuzz.bin”"));
              n_errors++;
            }
        }

      g_bytes_unref (samples[s]);
    }

  g_test_message ("%u damaged samples decoded, %u refused", n_images, n_errors);
}

/*
 * Asynchronous preparation
 */

typedef struct
{
  GAsyncResult *result;
  GThread      *thread;
} AsyncState;

static void
on_prepared (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  AsyncState *state = user_data;

  g_assert_null (object);
  g_assert_null (state->result);
  state->result = g_object_ref (result);
  state->thread = g_thread_self ();
}

static GazeImage *
wait_for_image (AsyncState  *state,
                GError     **error)
{
  GazeImage *image;

  while (state->result == NULL)
    g_main_context_iteration (NULL, TRUE);

  /* The callback runs where the call was made, not in the worker. */
  g_assert_true (state->thread == g_thread_self ());

  image = gaze_image_prepare_finish (state->result, error);
  g_clear_object (&state->result);

  return image;
}

static void
test_async_bytes (void)
{
  g_autoptr(GBytes) jpeg = get_large_jpeg ();
  g_autoptr(GazeImage) image = NULL;
  g_autoptr(GError) error = NULL;
  AsyncState state = { 0 };

  gaze_image_prepare_bytes_async (jpeg, "async.jpg", GAZE_DETAIL_LOW, NULL, on_prepared, &state);
  g_assert_null (state.result);

  image = wait_for_image (&state, &error);
  g_assert_no_error (error);
  assert_image (image, 512, 341);
  g_assert_cmpstr (gaze_image_get_name (image), ==, "async.jpg");
  g_assert_finalize_object (g_steal_pointer (&image));

  /* Errors come back through the same path. */
  {
    g_autoptr(GBytes) text = g_bytes_new_static ("not an image at all", 19);

    gaze_image_prepare_bytes_async (text, "readme.md", GAZE_DETAIL_LOW, NULL,
                                    on_prepared, &state);
    image = wait_for_image (&state, &error);
    g_assert_null (image);
    g_assert_error (error, GAZE_IMAGE_ERROR, GAZE_IMAGE_ERROR_NOT_AN_IMAGE);
  }
}

static void
test_async_cancel (void)
{
  g_autoptr(GBytes) jpeg = get_large_jpeg ();
  AsyncState state = { 0 };

  /* Cancelled before it starts. */
  {
    g_autoptr(GCancellable) cancellable = g_cancellable_new ();
    g_autoptr(GazeImage) image = NULL;
    g_autoptr(GError) error = NULL;

    g_cancellable_cancel (cancellable);
    gaze_image_prepare_bytes_async (jpeg, "a.jpg", GAZE_DETAIL_HIGH, cancellable,
                                    on_prepared, &state);
    image = wait_for_image (&state, &error);
    g_assert_null (image);
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  }

  /* Cancelled while the worker decodes. */
  {
    g_autoptr(GCancellable) cancellable = g_cancellable_new ();
    g_autoptr(GazeImage) image = NULL;
    g_autoptr(GError) error = NULL;

    gaze_image_prepare_bytes_async (jpeg, "b.jpg", GAZE_DETAIL_HIGH, cancellable,
                                    on_prepared, &state);
    g_cancellable_cancel (cancellable);
    image = wait_for_image (&state, &error);
    g_assert_null (image);
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  }

  /* The blocking versions honour it too. */
  {
    g_autoptr(GCancellable) cancellable = g_cancellable_new ();
    g_autoptr(GazeImage) image = NULL;
    g_autoptr(GError) error = NULL;

    g_cancellable_cancel (cancellable);
    image = gaze_image_prepare_bytes (jpeg, "c.jpg", GAZE_DETAIL_HIGH, cancellable, &error);
    g_assert_null (image);
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  }
}

/*
 * Files
 */

static void
test_file (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("gaze-test-image-XXXXXX", &error);
  g_autofree char *photo_path = NULL;
  g_autofree char *empty_path = NULL;
  g_autofree char *missing_path = NULL;
  g_autofree char *folder_path = NULL;
  g_autoptr(GBytes) jpeg = get_large_jpeg ();
  g_autoptr(GFile) photo = NULL;
  g_autoptr(GFile) empty = NULL;
  g_autoptr(GFile) missing = NULL;
  g_autoptr(GFile) folder = NULL;
  GazeImage *image;
  AsyncState state = { 0 };

  g_assert_no_error (error);

  photo_path = g_build_filename (dir, "Beach day.jpg", NULL);
  empty_path = g_build_filename (dir, "empty.png", NULL);
  missing_path = g_build_filename (dir, "missing.jpg", NULL);
  folder_path = g_build_filename (dir, "Holiday.jpg", NULL);

  /* Larger than one chunk, so it is read in several. */
  g_assert_cmpuint (g_bytes_get_size (jpeg), >, 64 * 1024);
  g_file_set_contents (photo_path, g_bytes_get_data (jpeg, NULL), g_bytes_get_size (jpeg), &error);
  g_assert_no_error (error);
  g_file_set_contents (empty_path, "", 0, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_mkdir (folder_path, 0700), ==, 0);

  photo = g_file_new_for_path (photo_path);
  empty = g_file_new_for_path (empty_path);
  missing = g_file_new_for_path (missing_path);
  folder = g_file_new_for_path (folder_path);

  image = gaze_image_prepare_file (photo, GAZE_DETAIL_HIGH, NULL, &error);
  g_assert_no_error (error);
  assert_image (image, 1152, 768);
  g_assert_cmpstr (gaze_image_get_name (image), ==, "Beach day.jpg");
  g_assert_cmpint (gaze_image_get_source_width (image), ==, 6000);
  g_assert_finalize_object (image);

  gaze_image_prepare_file_async (photo, GAZE_DETAIL_LOW, NULL, on_prepared, &state);
  image = wait_for_image (&state, &error);
  g_assert_no_error (error);
  assert_image (image, 512, 341);
  g_assert_cmpstr (gaze_image_get_name (image), ==, "Beach day.jpg");
  g_assert_finalize_object (image);

  image = gaze_image_prepare_file (empty, GAZE_DETAIL_HIGH, NULL, &error);
  g_assert_null (image);
  g_assert_error (error, GAZE_IMAGE_ERROR, GAZE_IMAGE_ERROR_EMPTY);
  g_assert_nonnull (strstr (error->message, "“empty.png”"));
  g_clear_error (&error);

  image = gaze_image_prepare_file (missing, GAZE_DETAIL_HIGH, NULL, &error);
  g_assert_null (image);
  g_assert_error (error, GAZE_IMAGE_ERROR, GAZE_IMAGE_ERROR_UNREADABLE);
  g_assert_nonnull (strstr (error->message, "“missing.jpg”"));
  g_test_message ("%s", error->message);
  g_clear_error (&error);

  gaze_image_prepare_file_async (missing, GAZE_DETAIL_HIGH, NULL, on_prepared, &state);
  image = wait_for_image (&state, &error);
  g_assert_null (image);
  g_assert_error (error, GAZE_IMAGE_ERROR, GAZE_IMAGE_ERROR_UNREADABLE);
  g_clear_error (&error);

  image = gaze_image_prepare_file (folder, GAZE_DETAIL_HIGH, NULL, &error);
  g_assert_null (image);
  g_assert_error (error, GAZE_IMAGE_ERROR, GAZE_IMAGE_ERROR_UNREADABLE);
  g_assert_nonnull (strstr (error->message, "“Holiday.jpg”"));
  g_clear_error (&error);

  g_assert_cmpint (g_remove (photo_path), ==, 0);
  g_assert_cmpint (g_remove (empty_path), ==, 0);
  g_assert_cmpint (g_rmdir (folder_path), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

static void
test_properties (void)
{
  g_autoptr(GdkPixbuf) pixbuf = make_pixbuf (900, 300, FALSE, 0x102030ff);
  g_autoptr(GBytes) jpeg = save_pixbuf (pixbuf, "jpeg");
  g_autoptr(GazeImage) image = prepare_ok (jpeg, "wide.jpg", GAZE_DETAIL_LOW);
  g_autoptr(GdkPixbuf) prop_pixbuf = NULL;
  g_autoptr(GBytes) prop_jpeg = NULL;
  g_autofree char *name = NULL;
  g_autofree char *base64 = NULL;
  GazeDetail detail;
  int width, height, source_width, source_height;

  g_object_get (image,
                "name", &name,
                "detail", &detail,
                "width", &width,
                "height", &height,
                "source-width", &source_width,
                "source-height", &source_height,
                "jpeg", &prop_jpeg,
                "base64", &base64,
                "pixbuf", &prop_pixbuf,
                NULL);

  g_assert_cmpstr (name, ==, "wide.jpg");
  g_assert_cmpint (detail, ==, GAZE_DETAIL_LOW);
  g_assert_cmpint (width, ==, 512);
  g_assert_cmpint (height, ==, 171);
  g_assert_cmpint (source_width, ==, 900);
  g_assert_cmpint (source_height, ==, 300);
  g_assert_true (prop_jpeg == gaze_image_get_jpeg (image));
  g_assert_cmpstr (base64, ==, gaze_image_get_base64 (image));
  g_assert_true (prop_pixbuf == gaze_image_get_pixbuf (image));
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/image/detail/strings", test_detail_strings);
  g_test_add_func ("/image/detail/fit-size", test_detail_fit_size);
  g_test_add_func ("/image/prepare/large-jpeg", test_prepare_large_jpeg);
  g_test_add_func ("/image/prepare/orientation", test_prepare_orientation);
  g_test_add_func ("/image/prepare/orientation-large", test_prepare_orientation_large);
  g_test_add_func ("/image/prepare/alpha", test_prepare_alpha);
  g_test_add_func ("/image/prepare/no-upscale", test_prepare_no_upscale);
  g_test_add_func ("/image/prepare/metadata", test_prepare_metadata);
  g_test_add_func ("/image/prepare/trailing-data", test_prepare_trailing_data);
  g_test_add_func ("/image/prepare/properties", test_properties);
  g_test_add_func ("/image/error/empty", test_error_empty);
  g_test_add_func ("/image/error/not-an-image", test_error_not_an_image);
  g_test_add_func ("/image/error/truncated", test_error_truncated);
  g_test_add_func ("/image/error/too-large", test_error_too_large);
  g_test_add_func ("/image/error/fuzz", test_error_fuzz);
  g_test_add_func ("/image/async/bytes", test_async_bytes);
  g_test_add_func ("/image/async/cancel", test_async_cancel);
  g_test_add_func ("/image/file", test_file);

  ret = g_test_run ();

  g_clear_pointer (&large_jpeg, g_bytes_unref);

  return ret;
}
