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

/* Samples made by data/images/make-samples.sh. */

static char *
get_sample_path (const char *name)
{
  return g_test_build_filename (G_TEST_DIST, "data", "images", name, NULL);
}

static GBytes *
load_sample (const char *name)
{
  g_autofree char *path = get_sample_path (name);
  g_autoptr(GError) error = NULL;
  char *contents = NULL;
  gsize len = 0;

  g_file_get_contents (path, &contents, &len, &error);
  g_assert_no_error (error);

  return g_bytes_new_take (contents, len);
}

/* Prepares a sample through the file API, as a dropped file is. */
static GazeImage *
prepare_sample (const char *name,
                GazeDetail  detail)
{
  g_autofree char *path = get_sample_path (name);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GError) error = NULL;
  GazeImage *image;

  image = gaze_image_prepare_file (file, detail, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (GAZE_IS_IMAGE (image));
  g_assert_cmpstr (gaze_image_get_name (image), ==, name);

  return image;
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
    { GAZE_DETAIL_HIGH, 2001, 700, 2000, 699 },
    { GAZE_DETAIL_HIGH, 1024, 1024, 768, 768 },
    { GAZE_DETAIL_HIGH, 4032, 3024, 1024, 768 },
    { GAZE_DETAIL_LOW, 4032, 3024, 512, 384 },

    /* Rounding down keeps 1536.5 from spilling into a fourth tile. */
    { GAZE_DETAIL_HIGH, 8845, 4421, 1536, 768 },
    { GAZE_DETAIL_LOW, 1023, 767, 512, 383 },

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
  g_autoptr(GBytes) big_jpeg = make_jpeg_claiming (36000, 30000);
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

/* The HEIF loader reports damaged data with g_warning() and no log domain,
 * besides failing; that is not a failure of the test. */
static void
count_loader_warning (const char     *log_domain,
                      GLogLevelFlags  log_level,
                      const char     *message,
                      gpointer        user_data)
{
  guint *n_warnings = user_data;

  (*n_warnings)++;
}

static gboolean
allow_loader_warnings (const char     *log_domain,
                       GLogLevelFlags  log_level,
                       const char     *message,
                       gpointer        user_data)
{
  return log_domain != NULL || (log_level & G_LOG_LEVEL_WARNING) == 0;
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
    load_sample ("quarter.gif"),
    load_sample ("animated.gif"),
    load_sample ("quarter.webp"),
    load_sample ("transparent.webp"),
    load_sample ("quarter.tiff"),
    load_sample ("quarter-small.bmp"),
    load_sample ("quarter-rle.bmp"),
    load_sample ("rotated-exif-orientation-6.heic"),
  };
  guint n_images = 0;
  guint n_errors = 0;
  guint n_warnings = 0;
  guint handler_id;

  handler_id = g_log_set_handler (NULL, G_LOG_LEVEL_WARNING | G_LOG_FLAG_FATAL,
                                  count_loader_warning, &n_warnings);
  g_test_log_set_fatal_handler (allow_loader_warnings, NULL);

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

  g_test_log_set_fatal_handler (NULL, NULL);
  g_log_remove_handler (NULL, handler_id);
  g_test_message ("%u damaged samples decoded, %u refused, %u loader warnings",
                  n_images, n_errors, n_warnings);
}

/*
 * Formats
 */

/* The samples are blue with one red quarter; checks which one is red. */
static void
assert_red_quarter (GdkPixbuf *pixbuf,
                    Corner     red)
{
  const guint32 red_rgb = 0xe02020;
  const guint32 blue_rgb = 0x2060a0;
  int width = gdk_pixbuf_get_width (pixbuf);
  int height = gdk_pixbuf_get_height (pixbuf);
  int left = width / 4;
  int right = width - width / 4 - 1;
  int top = height / 4;
  int bottom = height - height / 4 - 1;

  assert_pixel (pixbuf, left, top, red == CORNER_TOP_LEFT ? red_rgb : blue_rgb);
  assert_pixel (pixbuf, right, top, red == CORNER_TOP_RIGHT ? red_rgb : blue_rgb);
  assert_pixel (pixbuf, left, bottom, red == CORNER_BOTTOM_LEFT ? red_rgb : blue_rgb);
  assert_pixel (pixbuf, right, bottom, red == CORNER_BOTTOM_RIGHT ? red_rgb : blue_rgb);
}

static void
test_format_samples (void)
{
  static const struct {
    const char *name;
    int         width;
    int         height;
    int         low_width;
    int         low_height;
  } samples[] = {
    { "quarter.gif", 800, 600, 512, 384 },
    { "quarter.webp", 800, 600, 512, 384 },
    { "quarter.heic", 800, 600, 512, 384 },
    { "quarter.tiff", 800, 600, 512, 384 },
    { "quarter-rle.bmp", 800, 600, 512, 384 },
    { "quarter-small.bmp", 48, 32, 48, 32 },
    /* A PNG named .jpg: the content decides, never the name. */
    { "png-named.jpg", 800, 600, 512, 384 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (samples); i++)
    {
      g_autoptr(GazeImage) low = NULL;
      g_autoptr(GazeImage) high = NULL;

      g_test_message ("%s", samples[i].name);

      low = prepare_sample (samples[i].name, GAZE_DETAIL_LOW);
      assert_image (low, samples[i].low_width, samples[i].low_height);
      assert_red_quarter (gaze_image_get_pixbuf (low), CORNER_TOP_LEFT);
      g_assert_cmpint (gaze_image_get_source_width (low), ==, samples[i].width);
      g_assert_cmpint (gaze_image_get_source_height (low), ==, samples[i].height);

      high = prepare_sample (samples[i].name, GAZE_DETAIL_HIGH);
      assert_image (high, samples[i].width, samples[i].height);
      assert_red_quarter (gaze_image_get_pixbuf (high), CORNER_TOP_LEFT);

      g_assert_finalize_object (g_steal_pointer (&low));
      g_assert_finalize_object (g_steal_pointer (&high));
    }
}

static void
test_format_lying_name (void)
{
  g_autoptr(GdkPixbuf) pixbuf = make_pixbuf (120, 80, FALSE, 0xe02020ff);
  g_autoptr(GBytes) jpeg = save_pixbuf (pixbuf, "jpeg");
  g_autoptr(GBytes) png = load_sample ("png-named.jpg");
  g_autoptr(GazeImage) from_jpeg = NULL;
  g_autoptr(GazeImage) from_png = NULL;

  /* A JPEG called .png, and a PNG called .jpg, pasted. */
  from_jpeg = prepare_ok (jpeg, "photo.png", GAZE_DETAIL_HIGH);
  assert_image (from_jpeg, 120, 80);
  assert_pixel (gaze_image_get_pixbuf (from_jpeg), 60, 40, 0xe02020);

  from_png = prepare_ok (png, "screenshot.jpg", GAZE_DETAIL_LOW);
  assert_image (from_png, 512, 384);
  assert_red_quarter (gaze_image_get_pixbuf (from_png), CORNER_TOP_LEFT);
}

static void
test_format_animated (void)
{
  static const char * const names[] = { "animated.gif", "animated.webp" };

  /* Azure reads the first frame of a GIF; so does Gaze. It is red, the
   * second green. */
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autoptr(GazeImage) image = prepare_sample (names[i], GAZE_DETAIL_HIGH);

      assert_image (image, 80, 60);
      assert_pixel (gaze_image_get_pixbuf (image), 10, 10, 0xe02020);
      assert_pixel (gaze_image_get_pixbuf (image), 70, 50, 0xe02020);
    }
}

static void
test_format_transparent (void)
{
  g_autoptr(GazeImage) webp = prepare_sample ("transparent.webp", GAZE_DETAIL_HIGH);
  g_autoptr(GazeImage) gif = prepare_sample ("transparent.gif", GAZE_DETAIL_HIGH);

  /* Clear areas become white; half-transparent red becomes pink. */
  assert_image (webp, 64, 64);
  assert_pixel (gaze_image_get_pixbuf (webp), 8, 8, 0xffffff);
  assert_pixel (gaze_image_get_pixbuf (webp), 8, 56, 0xffffff);
  assert_pixel (gaze_image_get_pixbuf (webp), 56, 8, 0x00c000);
  assert_pixel (gaze_image_get_pixbuf (webp), 56, 56, 0xff7f7f);

  assert_image (gif, 64, 64);
  assert_pixel (gaze_image_get_pixbuf (gif), 8, 8, 0xffffff);
  assert_pixel (gaze_image_get_pixbuf (gif), 8, 56, 0xffffff);
  assert_pixel (gaze_image_get_pixbuf (gif), 56, 8, 0x00c000);
  assert_pixel (gaze_image_get_pixbuf (gif), 56, 56, 0x00c000);
}

static void
test_format_orientation (void)
{
  g_autoptr(GazeImage) tiff = NULL;
  g_autoptr(GazeImage) heif_exif = NULL;
  g_autoptr(GazeImage) heif_rotated = NULL;

  /* TIFF's orientation tag 6: a quarter turn clockwise brings the red
   * top-left quarter to the top right. */
  tiff = prepare_sample ("orientation-6.tiff", GAZE_DETAIL_LOW);
  assert_image (tiff, 384, 512);
  assert_red_quarter (gaze_image_get_pixbuf (tiff), CORNER_TOP_RIGHT);
  g_assert_cmpint (gaze_image_get_source_width (tiff), ==, 600);
  g_assert_cmpint (gaze_image_get_source_height (tiff), ==, 800);

  /* In HEIF, the 'irot' property turns the picture and EXIF orientation
   * is only a note: a file with EXIF orientation 6 alone stays as stored. */
  heif_exif = prepare_sample ("exif-orientation-6.heic", GAZE_DETAIL_LOW);
  assert_image (heif_exif, 512, 384);
  assert_red_quarter (gaze_image_get_pixbuf (heif_exif), CORNER_TOP_LEFT);

  /* An iPhone photo taken upright: 'irot' and EXIF both say a quarter
   * clockwise, and the photo is turned once, not twice. */
  heif_rotated = prepare_sample ("rotated-exif-orientation-6.heic", GAZE_DETAIL_HIGH);
  assert_image (heif_rotated, 600, 800);
  assert_red_quarter (gaze_image_get_pixbuf (heif_rotated), CORNER_TOP_RIGHT);
  g_assert_cmpint (gaze_image_get_source_width (heif_rotated), ==, 600);
  g_assert_cmpint (gaze_image_get_source_height (heif_rotated), ==, 800);
}

/* Returns where @needle of @len bytes is in @bytes, or -1. */
static gssize
find_data (GBytes       *bytes,
           const guint8 *needle,
           gsize         len)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (bytes, &size);

  for (gsize i = 0; i + len <= size; i++)
    if (memcmp (data + i, needle, len) == 0)
      return i;

  return -1;
}

static guint32
read_tiff_uint (const guint8 *p,
                gboolean      big_endian,
                guint         size)
{
  if (size == 2)
    return big_endian ? (p[0] << 8) | p[1] : (p[1] << 8) | p[0];

  return big_endian
    ? ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | p[3]
    : ((guint32) p[3] << 24) | ((guint32) p[2] << 16) | ((guint32) p[1] << 8) | p[0];
}

/* Finds @tag in the TIFF directory at @ifd; returns its value or offset. */
static guint32
find_tiff_tag (const guint8 *tiff,
               gsize         len,
               gboolean      big_endian,
               guint32       ifd,
               guint16       tag)
{
  guint n_entries;

  g_assert_cmpuint (ifd + 2, <=, len);
  n_entries = read_tiff_uint (tiff + ifd, big_endian, 2);

  for (guint i = 0; i < n_entries; i++)
    {
      const guint8 *entry = tiff + ifd + 2 + 12 * i;

      g_assert_cmpuint (ifd + 2 + 12 * (i + 1), <=, len);
      if (read_tiff_uint (entry, big_endian, 2) == tag)
        return read_tiff_uint (entry + 8, big_endian, 4);
    }

  g_assert_not_reached ();
}

static void
test_prepare_gps (void)
{
  /* The EXIF, IPTC, XMP and comment texts, and the XMP latitude. */
  static const char * const markers[] = {
    "GAZE-GPS-AREA", "GAZE-IPTC-CITY", "GAZE-COMMENT", "Test Camera", "Exif", "GPS",
    "http://ns.adobe.com/", "Photoshop", "51,30",
  };
  g_autoptr(GBytes) jpeg = load_sample ("gps.jpg");
  g_autoptr(GazeImage) image = NULL;
  const guint8 *data;
  const guint8 *tiff;
  gsize len;
  gssize app1;
  gboolean big_endian;
  guint32 gps_ifd;
  guint32 latitude;
  GBytes *prepared;

  /* The latitude, as the EXIF GPS directory stores it: three rationals. */
  data = g_bytes_get_data (jpeg, &len);
  app1 = find_jpeg_segment (jpeg, 0xe1);
  g_assert_cmpint (app1, >, 0);
  g_assert_cmpmem (data + app1 + 4, 6, "Exif\0\0", 6);
  tiff = data + app1 + 10;
  len -= app1 + 10;
  big_endian = tiff[0] == 'M';
  gps_ifd = find_tiff_tag (tiff, len, big_endian, read_tiff_uint (tiff + 4, big_endian, 4), 0x8825);
  latitude = find_tiff_tag (tiff, len, big_endian, gps_ifd, 0x0002);
  g_assert_cmpuint (latitude + 24, <=, len);
  g_assert_cmpint (find_data (jpeg, tiff + latitude, 24), >, 0);

  /* The sample really carries the rest, too. */
  for (guint i = 0; i < G_N_ELEMENTS (markers); i++)
    g_assert_true (bytes_contain (jpeg, markers[i]));
  g_assert_cmpint (find_jpeg_segment (jpeg, 0xed), >, 0);
  g_assert_cmpint (find_jpeg_segment (jpeg, 0xfe), >, 0);

  image = prepare_sample ("gps.jpg", GAZE_DETAIL_HIGH);
  assert_image (image, 320, 240);
  prepared = gaze_image_get_jpeg (image);

  g_assert_cmpint (find_data (prepared, tiff + latitude, 24), ==, -1);
  for (guint i = 0; i < G_N_ELEMENTS (markers); i++)
    g_assert_false (bytes_contain (prepared, markers[i]));

  /* No APP1 (EXIF, XMP), APP2 (ICC), APP13 (IPTC) or comment at all. */
  g_assert_cmpint (find_jpeg_segment (prepared, 0xe1), ==, -1);
  g_assert_cmpint (find_jpeg_segment (prepared, 0xe2), ==, -1);
  g_assert_cmpint (find_jpeg_segment (prepared, 0xed), ==, -1);
  g_assert_cmpint (find_jpeg_segment (prepared, 0xfe), ==, -1);
}

/*
 * Bad files in each format
 */

static void
test_error_truncated_formats (void)
{
  /* The TIFF sample ends with colour metadata, not pixels, so only its
   * first half is a damaged picture. */
  static const struct {
    const char *name;
    gboolean    ends_with_pixels;
  } samples[] = {
    { "quarter.gif", TRUE },
    { "quarter.webp", TRUE },
    { "quarter.heic", TRUE },
    { "quarter.tiff", FALSE },
    { "quarter-small.bmp", TRUE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (samples); i++)
    {
      g_autoptr(GBytes) whole = load_sample (samples[i].name);
      g_autoptr(GBytes) half = g_bytes_new_from_bytes (whole, 0, g_bytes_get_size (whole) / 2);
      g_autoptr(GBytes) most = g_bytes_new_from_bytes (whole, 0, g_bytes_get_size (whole) - 16);

      assert_prepare_fails (half, samples[i].name, GAZE_IMAGE_ERROR_CORRUPT);
      if (samples[i].ends_with_pixels)
        assert_prepare_fails (most, samples[i].name, GAZE_IMAGE_ERROR_CORRUPT);
    }
}

static void
test_error_other_formats (void)
{
  static const char svg[] =
    "<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"64\" height=\"64\">"
    "<rect width=\"64\" height=\"64\" fill=\"red\"/></svg>\n";
  /* An MP4 video's first box, then an empty 'moov'. */
  static const guint8 mp4[] = {
    0, 0, 0, 24, 'f', 't', 'y', 'p', 'i', 's', 'o', 'm', 0, 0, 2, 0, 'i', 's', 'o', 'm',
    'm', 'p', '4', '1', 0, 0, 0, 8, 'm', 'o', 'o', 'v',
  };
  /* HEIF brands, but no pictures. */
  static const guint8 empty_heif[] = {
    0, 0, 0, 24, 'f', 't', 'y', 'p', 'h', 'e', 'i', 'c', 0, 0, 0, 0, 'm', 'i', 'f', '1',
    'h', 'e', 'i', 'c', 0, 0, 0, 8, 'm', 'd', 'a', 't',
  };
  static const char bm_text[] = "BM is how this note starts, and it is not a bitmap at all.";
  g_autoptr(GdkPixbuf) pixbuf = make_pixbuf (32, 32, TRUE, 0xe02020ff);
  g_autoptr(GBytes) ico = save_pixbuf (pixbuf, "ico");
  g_autoptr(GBytes) svg_bytes = g_bytes_new_static (svg, sizeof svg - 1);
  g_autoptr(GBytes) mp4_bytes = g_bytes_new_static (mp4, sizeof mp4);
  g_autoptr(GBytes) heif_bytes = g_bytes_new_static (empty_heif, sizeof empty_heif);
  g_autoptr(GBytes) bm_bytes = g_bytes_new_static (bm_text, sizeof bm_text - 1);

  /* gdk-pixbuf could read the icon and the drawing, but Gaze sends photos:
   * the loaders for other formats never see a dropped file. */
  assert_prepare_fails (ico, "favicon.ico", GAZE_IMAGE_ERROR_NOT_AN_IMAGE);
  assert_prepare_fails (svg_bytes, "logo.svg", GAZE_IMAGE_ERROR_NOT_AN_IMAGE);
  assert_prepare_fails (mp4_bytes, "IMG_0002.MP4", GAZE_IMAGE_ERROR_NOT_AN_IMAGE);
  assert_prepare_fails (heif_bytes, "empty.heic", GAZE_IMAGE_ERROR_NOT_AN_IMAGE);
  assert_prepare_fails (bm_bytes, "notes.bmp", GAZE_IMAGE_ERROR_NOT_AN_IMAGE);
}

static void
append_uint16_le (GByteArray *array,
                  guint16     value)
{
  guint8 data[2] = { value & 0xff, value >> 8 };

  g_byte_array_append (array, data, sizeof data);
}

static void
append_uint32_le (GByteArray *array,
                  guint32     value)
{
  guint8 data[4] = { value & 0xff, (value >> 8) & 0xff, (value >> 16) & 0xff, value >> 24 };

  g_byte_array_append (array, data, sizeof data);
}

/* A GIF whose screen and only frame are @width × @height. */
static GBytes *
make_gif_claiming (guint16 width,
                   guint16 height)
{
  static const guint8 palette[6] = { 0xe0, 0x20, 0x20, 0x20, 0x60, 0xa0 };
  static const guint8 pixels[] = { 2, 2, 0x4c, 0x01, 0, 0x3b };
  GByteArray *gif = g_byte_array_new ();

  g_byte_array_append (gif, (const guint8 *) "GIF89a", 6);
  append_uint16_le (gif, width);
  append_uint16_le (gif, height);
  g_byte_array_append (gif, (const guint8 *) "\x80\x00\x00", 3);
  g_byte_array_append (gif, palette, sizeof palette);
  g_byte_array_append (gif, (const guint8 *) ",", 1);
  append_uint32_le (gif, 0);
  append_uint16_le (gif, width);
  append_uint16_le (gif, height);
  g_byte_array_append (gif, (const guint8 *) "\x00", 1);
  g_byte_array_append (gif, pixels, sizeof pixels);

  return g_byte_array_free_to_bytes (gif);
}

/* An uncompressed 24-bit BMP header for @width × @height, and a few rows. */
static GBytes *
make_bmp_claiming (gint32 width,
                   gint32 height)
{
  GByteArray *bmp = g_byte_array_new ();
  guint8 row[256] = { 0 };

  g_byte_array_append (bmp, (const guint8 *) "BM", 2);
  append_uint32_le (bmp, 54 + sizeof row);
  append_uint32_le (bmp, 0);
  append_uint32_le (bmp, 54);
  append_uint32_le (bmp, 40);
  append_uint32_le (bmp, width);
  append_uint32_le (bmp, height);
  append_uint16_le (bmp, 1);
  append_uint16_le (bmp, 24);
  for (guint i = 0; i < 6; i++)
    append_uint32_le (bmp, 0);
  g_byte_array_append (bmp, row, sizeof row);

  return g_byte_array_free_to_bytes (bmp);
}

/* A one-strip uncompressed RGB TIFF that says it is @width × @height. */
static GBytes *
make_tiff_claiming (guint32 width,
                    guint32 height)
{
  GByteArray *tiff = g_byte_array_new ();
  const guint32 data_offset = 8 + 2 + 9 * 12 + 4;
  const struct { guint16 tag, type; guint32 count, value; } entries[] = {
    { 256, 4, 1, width },
    { 257, 4, 1, height },
    { 258, 3, 1, 8 },
    { 259, 3, 1, 1 },
    { 262, 3, 1, 2 },
    { 273, 4, 1, data_offset },
    { 277, 3, 1, 3 },
    { 278, 4, 1, height },
    { 279, 4, 1, 64 },
  };
  guint8 strip[64] = { 0 };

  g_byte_array_append (tiff, (const guint8 *) "II*\0", 4);
  append_uint32_le (tiff, 8);
  append_uint16_le (tiff, G_N_ELEMENTS (entries));
  for (guint i = 0; i < G_N_ELEMENTS (entries); i++)
    {
      append_uint16_le (tiff, entries[i].tag);
      append_uint16_le (tiff, entries[i].type);
      append_uint32_le (tiff, entries[i].count);
      if (entries[i].type == 3)
        {
          append_uint16_le (tiff, entries[i].value);
          append_uint16_le (tiff, 0);
        }
      else
        append_uint32_le (tiff, entries[i].value);
    }
  append_uint32_le (tiff, 0);
  g_assert_cmpuint (tiff->len, ==, data_offset);
  g_byte_array_append (tiff, strip, sizeof strip);

  return g_byte_array_free_to_bytes (tiff);
}

/* The WebP sample with its picture's declared size changed. */
static GBytes *
make_webp_claiming (guint16 width,
                    guint16 height)
{
  g_autoptr(GBytes) sample = load_sample ("quarter.webp");
  gsize len = g_bytes_get_size (sample);
  guint8 *data = g_memdup2 (g_bytes_get_data (sample, NULL), len);

  /* A lossy picture: the VP8 chunk's frame tag and start code, then the
   * width and height, 14 bits each. */
  g_assert_cmpmem (data + 12, 4, "VP8 ", 4);
  g_assert_cmpmem (data + 23, 3, "\x9d\x01\x2a", 3);
  data[26] = width & 0xff;
  data[27] = (width >> 8) & 0x3f;
  data[28] = height & 0xff;
  data[29] = (height >> 8) & 0x3f;

  return g_bytes_new_take (data, len);
}

/* The HEIF sample with its picture's declared size changed. */
static GBytes *
make_heif_claiming (guint32 width,
                    guint32 height)
{
  g_autoptr(GBytes) sample = load_sample ("quarter.heic");
  gsize len = g_bytes_get_size (sample);
  guint8 *data = g_memdup2 (g_bytes_get_data (sample, NULL), len);
  gssize ispe = find_data (sample, (const guint8 *) "ispe", 4);

  g_assert_cmpint (ispe, >, 0);
  /* The type, a version and flags, then the width and the height. */
  for (guint i = 0; i < 4; i++)
    {
      data[ispe + 8 + i] = (width >> (24 - 8 * i)) & 0xff;
      data[ispe + 12 + i] = (height >> (24 - 8 * i)) & 0xff;
    }

  return g_bytes_new_take (data, len);
}

static void
assert_too_large (GBytes     *bytes,
                  const char *name,
                  const char *size,
                  const char *limit)
{
  g_autoptr(GazeImage) image = NULL;
  g_autoptr(GError) error = NULL;

  image = gaze_image_prepare_bytes (bytes, name, GAZE_DETAIL_LOW, NULL, &error);
  g_assert_null (image);
  g_assert_error (error, GAZE_IMAGE_ERROR, GAZE_IMAGE_ERROR_TOO_LARGE);
  g_test_message ("%s: %s", name, error->message);
  g_assert_nonnull (strstr (error->message, name));
  g_assert_nonnull (strstr (error->message, size));
  g_assert_nonnull (strstr (error->message, limit));
}

static void
test_error_too_large_formats (void)
{
  g_autoptr(GBytes) gif = make_gif_claiming (10000, 8000);
  g_autoptr(GBytes) bmp = make_bmp_claiming (10000, -8000);
  g_autoptr(GBytes) tiff = make_tiff_claiming (10000, 8000);
  g_autoptr(GBytes) webp = make_webp_claiming (10000, 8000);
  g_autoptr(GBytes) heif = make_heif_claiming (10000, 8000);
  g_autoptr(GBytes) jpeg = make_jpeg_claiming (9000, 6000);
  g_autoptr(GBytes) progressive = NULL;
  gssize sof = find_jpeg_segment (jpeg, 0xc0);
  guint8 *data;

  /* 80 megapixels: more than any format but a baseline JPEG may have. */
  assert_too_large (gif, "anim.gif", "10000 × 8000", "GIF image may have at most 50 megapixels");
  assert_too_large (bmp, "scan.bmp", "10000 × 8000", "BMP image may have at most 50 megapixels");
  assert_too_large (tiff, "scan.tiff", "10000 × 8000",
                    "TIFF image may have at most 50 megapixels");
  assert_too_large (webp, "pano.webp", "10000 × 8000",
                    "WebP image may have at most 50 megapixels");
  assert_too_large (heif, "pano.heic", "10000 × 8000",
                    "HEIF image may have at most 50 megapixels");

  /* 360 megapixels: fine for a baseline JPEG, too many for a progressive
   * one, whose coefficients would need a 1 GB file. */
  g_clear_pointer (&jpeg, g_bytes_unref);
  jpeg = make_jpeg_claiming (20000, 18000);
  sof = find_jpeg_segment (jpeg, 0xc0);
  data = g_memdup2 (g_bytes_get_data (jpeg, NULL), g_bytes_get_size (jpeg));
  data[sof + 1] = 0xc2;
  progressive = g_bytes_new_take (data, g_bytes_get_size (jpeg));
  assert_too_large (progressive, "web.jpg", "20000 × 18000",
                    "progressive JPEG image may have at most 200 megapixels");

  /* 1.2 gigapixels is more than any JPEG may have. */
  g_clear_pointer (&jpeg, g_bytes_unref);
  jpeg = make_jpeg_claiming (40000, 30000);
  assert_too_large (jpeg, "pano.jpg", "40000 × 30000",
                    "JPEG image may have at most 1000 megapixels");
}

static void
test_limits_count (void)
{
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (GAZE_MAX_IMAGES_PER_REQUEST, ==, 10);

  g_assert_true (gaze_image_check_count (0, &error));
  g_assert_no_error (error);
  g_assert_true (gaze_image_check_count (10, &error));
  g_assert_no_error (error);
  g_assert_true (gaze_image_check_count (10, NULL));

  g_assert_false (gaze_image_check_count (11, &error));
  g_assert_error (error, GAZE_IMAGE_ERROR, GAZE_IMAGE_ERROR_TOO_MANY);
  g_assert_cmpstr (error->message, ==,
                   "A question can carry at most 10 photos, and this one has 11. "
                   "Remove 1 photo to send it.");
  g_clear_error (&error);

  g_assert_false (gaze_image_check_count (13, &error));
  g_assert_error (error, GAZE_IMAGE_ERROR, GAZE_IMAGE_ERROR_TOO_MANY);
  g_assert_nonnull (strstr (error->message, "Remove 3 photos"));
  g_clear_error (&error);

  g_assert_false (gaze_image_check_count (11, NULL));
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
on_many_prepared (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  guint *n_left = user_data;
  g_autoptr(GazeImage) image = NULL;
  g_autoptr(GError) error = NULL;

  image = gaze_image_prepare_finish (result, &error);
  g_assert_no_error (error);
  assert_image (image, 512, 341);
  (*n_left)--;
}

static void
on_many_cancelled (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  guint *n_left = user_data;
  g_autoptr(GazeImage) image = NULL;
  g_autoptr(GError) error = NULL;

  image = gaze_image_prepare_finish (result, &error);
  g_assert_null (image);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  (*n_left)--;
}

static void
test_async_many (void)
{
  g_autoptr(GBytes) jpeg = get_large_jpeg ();
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  guint n_left = 12;

  /* More photos than the pool has threads: the others wait their turn,
   * and every one comes back. */
  for (guint i = 0; i < 12; i++)
    gaze_image_prepare_bytes_async (jpeg, "many.jpg", GAZE_DETAIL_LOW, NULL,
                                    on_many_prepared, &n_left);
  while (n_left > 0)
    g_main_context_iteration (NULL, TRUE);

  /* Cancelling while they queue ends them all. */
  n_left = 12;
  for (guint i = 0; i < 12; i++)
    gaze_image_prepare_bytes_async (jpeg, "many.jpg", GAZE_DETAIL_HIGH, cancellable,
                                    on_many_cancelled, &n_left);
  g_cancellable_cancel (cancellable);
  while (n_left > 0)
    g_main_context_iteration (NULL, TRUE);
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
  g_assert_cmpint (height, ==, 170);
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
  g_test_add_func ("/image/prepare/gps", test_prepare_gps);
  g_test_add_func ("/image/format/samples", test_format_samples);
  g_test_add_func ("/image/format/lying-name", test_format_lying_name);
  g_test_add_func ("/image/format/animated", test_format_animated);
  g_test_add_func ("/image/format/transparent", test_format_transparent);
  g_test_add_func ("/image/format/orientation", test_format_orientation);
  g_test_add_func ("/image/error/empty", test_error_empty);
  g_test_add_func ("/image/error/not-an-image", test_error_not_an_image);
  g_test_add_func ("/image/error/truncated", test_error_truncated);
  g_test_add_func ("/image/error/too-large", test_error_too_large);
  g_test_add_func ("/image/error/truncated-formats", test_error_truncated_formats);
  g_test_add_func ("/image/error/other-formats", test_error_other_formats);
  g_test_add_func ("/image/error/too-large-formats", test_error_too_large_formats);
  g_test_add_func ("/image/error/fuzz", test_error_fuzz);
  g_test_add_func ("/image/limits/count", test_limits_count);
  g_test_add_func ("/image/async/bytes", test_async_bytes);
  g_test_add_func ("/image/async/cancel", test_async_cancel);
  g_test_add_func ("/image/async/many", test_async_many);
  g_test_add_func ("/image/file", test_file);

  ret = g_test_run ();

  g_clear_pointer (&large_jpeg, g_bytes_unref);

  return ret;
}
