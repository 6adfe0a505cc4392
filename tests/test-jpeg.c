/* test-jpeg.c: Gaze's own JPEG decoder, and where it keeps coefficients
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include <jpeglib.h>

#include <glib/gstdio.h>

#include "gaze-image.h"
#include "gaze-jpeg-private.h"

typedef struct
{
  int      width;
  int      height;
  gboolean progressive;
  gboolean cmyk;
  int      orientation;      /* 0: no EXIF at all. */
  gboolean big_endian;
  gboolean arithmetic;
  gboolean scan_per_component;  /* Sequential, in one scan per component. */
  int      h_samp;            /* Of luma; 0 for libjpeg's 2×2. */
  int      v_samp;
} Sample;

/* A picture with detail everywhere, so that the coefficients are not all
 * zero: colour ramps, a grid and some noise. */
static void
fill_row (guint8 *row,
          int     y,
          int     width,
          int     height,
          GRand  *rand)
{
  for (int x = 0; x < width; x++)
    {
      guint8 *p = row + 3 * x;
      gboolean grid = (x / 16 + y / 16) % 2 == 0;

      p[0] = (guint8) (255 * x / MAX (width - 1, 1));
      p[1] = (guint8) (255 * y / MAX (height - 1, 1));
      p[2] = (guint8) (grid ? 200 : 40) + (guint8) g_rand_int_range (rand, 0, 16);
    }
}

static GByteArray *exif_for (int orientation, gboolean big_endian);

static GBytes *
make_jpeg (const Sample *sample)
{
  struct jpeg_compress_struct cinfo;
  struct jpeg_error_mgr error_mgr;
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  g_autofree guint8 *row = g_malloc ((gsize) sample->width * 4);
  unsigned char *buffer = NULL;
  unsigned long size = 0;
  GBytes *bytes;

  cinfo.err = jpeg_std_error (&error_mgr);
  jpeg_create_compress (&cinfo);
  jpeg_mem_dest (&cinfo, &buffer, &size);

  cinfo.image_width = sample->width;
  cinfo.image_height = sample->height;
  cinfo.input_components = sample->cmyk ? 4 : 3;
  cinfo.in_color_space = sample->cmyk ? JCS_CMYK : JCS_RGB;
  jpeg_set_defaults (&cinfo);
  jpeg_set_quality (&cinfo, 90, TRUE);
  if (sample->progressive)
    jpeg_simple_progression (&cinfo);
  cinfo.arith_code = sample->arithmetic;
  if (sample->h_samp > 0)
    {
      cinfo.comp_info[0].h_samp_factor = sample->h_samp;
      cinfo.comp_info[0].v_samp_factor = sample->v_samp;
    }
  if (sample->scan_per_component)
    {
      static jpeg_scan_info scans[3];

      for (int i = 0; i < 3; i++)
        {
          scans[i].comps_in_scan = 1;
          scans[i].component_index[0] = i;
          scans[i].Ss = 0;
          scans[i].Se = 63;
          scans[i].Ah = 0;
          scans[i].Al = 0;
        }
      cinfo.scan_info = scans;
      cinfo.num_scans = 3;
    }

  jpeg_start_compress (&cinfo, TRUE);

  if (sample->orientation > 0)
    {
      g_autoptr(GByteArray) exif = exif_for (sample->orientation, sample->big_endian);

      jpeg_write_marker (&cinfo, JPEG_APP0 + 1, exif->data, exif->len);
    }

  while (cinfo.next_scanline < cinfo.image_height)
    {
      JSAMPROW rows[1] = { row };

      fill_row (row, (int) cinfo.next_scanline, sample->width, sample->height, rand);

      if (sample->cmyk)
        {
          /* Stored the way Adobe's files store it, inverted: a pure red. */
          for (int x = sample->width - 1; x >= 0; x--)
            {
              row[4 * x + 0] = 255;
              row[4 * x + 1] = 0;
              row[4 * x + 2] = 0;
              row[4 * x + 3] = 255;
            }
        }

      jpeg_write_scanlines (&cinfo, rows, 1);
    }

  jpeg_finish_compress (&cinfo);
  jpeg_destroy_compress (&cinfo);

  bytes = g_bytes_new (buffer, size);
  free (buffer);

  return bytes;
}

static void
put_uint (GByteArray *out,
          guint       value,
          guint       size,
          gboolean    big_endian)
{
  for (guint i = 0; i < size; i++)
    {
      guint shift = big_endian ? 8 * (size - 1 - i) : 8 * i;
      guint8 byte = (value >> shift) & 0xff;

      g_byte_array_append (out, &byte, 1);
    }
}

/* One IFD entry of type SHORT: the value sits at the start of its field. */
static void
put_short_entry (GByteArray *out,
                 guint       tag,
                 guint       value,
                 gboolean    big_endian)
{
  put_uint (out, tag, 2, big_endian);
  put_uint (out, 3, 2, big_endian);
  put_uint (out, 1, 4, big_endian);
  put_uint (out, value, 2, big_endian);
  put_uint (out, 0, 2, big_endian);
}

/* An APP1 segment: "Exif", a TIFF header and one IFD with the orientation
 * after an unrelated entry. */
static GByteArray *
exif_for (int      orientation,
          gboolean big_endian)
{
  GByteArray *exif = g_byte_array_new ();

  g_byte_array_append (exif, (const guint8 *) "Exif\0\0", 6);
  g_byte_array_append (exif, (const guint8 *) (big_endian ? "MM" : "II"), 2);
  put_uint (exif, 42, 2, big_endian);
  put_uint (exif, 8, 4, big_endian);
  put_uint (exif, 2, 2, big_endian);
  put_short_entry (exif, 0x100, 64, big_endian);
  put_short_entry (exif, 0x112, (guint) orientation, big_endian);
  put_uint (exif, 0, 4, big_endian);

  return exif;
}

typedef struct
{
  int      fit_width;
  int      fit_height;
  gboolean refuse;
  int      seen_width;
  int      seen_height;
  gboolean seen_multi_scan;
  guint    n_calls;
} SizeData;

static gboolean
size_cb (int       width,
         int       height,
         gboolean  multi_scan,
         int      *fit_width,
         int      *fit_height,
         gpointer  user_data)
{
  SizeData *data = user_data;

  data->n_calls++;
  data->seen_multi_scan = multi_scan;
  data->seen_width = width;
  data->seen_height = height;
  *fit_width = data->fit_width > 0 ? data->fit_width : width;
  *fit_height = data->fit_height > 0 ? data->fit_height : height;

  return !data->refuse;
}

/* Decodes @bytes in chunks of @chunk bytes (0: all at once). */
static GdkPixbuf *
decode (GBytes    *bytes,
        gsize      chunk,
        SizeData  *data,
        gboolean  *used_file,
        GError   **error)
{
  g_autoptr(GazeJpeg) jpeg = gaze_jpeg_new (size_cb, data, NULL);
  const guint8 *p;
  gsize len;
  GdkPixbuf *pixbuf;

  p = g_bytes_get_data (bytes, &len);
  if (chunk == 0)
    chunk = len;

  for (gsize offset = 0; offset < len; offset += chunk)
    {
      if (!gaze_jpeg_write (jpeg, p + offset, MIN (chunk, len - offset), error))
        return NULL;
    }

  pixbuf = gaze_jpeg_finish (jpeg, error);
  if (used_file != NULL)
    *used_file = gaze_jpeg_used_file (jpeg);

  return pixbuf;
}

static void
assert_same_pixels (GdkPixbuf *a,
                    GdkPixbuf *b)
{
  int height = gdk_pixbuf_get_height (a);
  int row_len = gdk_pixbuf_get_width (a) * gdk_pixbuf_get_n_channels (a);

  g_assert_cmpint (gdk_pixbuf_get_width (a), ==, gdk_pixbuf_get_width (b));
  g_assert_cmpint (gdk_pixbuf_get_height (a), ==, gdk_pixbuf_get_height (b));
  g_assert_cmpint (gdk_pixbuf_get_n_channels (a), ==, gdk_pixbuf_get_n_channels (b));

  for (int y = 0; y < height; y++)
    g_assert_cmpmem (gdk_pixbuf_read_pixels (a) + (gsize) y * gdk_pixbuf_get_rowstride (a),
                     row_len,
                     gdk_pixbuf_read_pixels (b) + (gsize) y * gdk_pixbuf_get_rowstride (b),
                     row_len);
}

/* The mean difference per channel between two pictures of one size. */
static double
mean_difference (GdkPixbuf *a,
                 GdkPixbuf *b)
{
  int width = gdk_pixbuf_get_width (a);
  int height = gdk_pixbuf_get_height (a);
  int na = gdk_pixbuf_get_n_channels (a);
  int nb = gdk_pixbuf_get_n_channels (b);
  double total = 0;

  g_assert_cmpint (width, ==, gdk_pixbuf_get_width (b));
  g_assert_cmpint (height, ==, gdk_pixbuf_get_height (b));

  for (int y = 0; y < height; y++)
    {
      const guint8 *pa = gdk_pixbuf_read_pixels (a) + (gsize) y * gdk_pixbuf_get_rowstride (a);
      const guint8 *pb = gdk_pixbuf_read_pixels (b) + (gsize) y * gdk_pixbuf_get_rowstride (b);

      for (int x = 0; x < width; x++)
        for (int c = 0; c < 3; c++)
          total += ABS ((int) pa[x * na + c] - (int) pb[x * nb + c]);
    }

  return total / ((double) width * height * 3);
}

static const char *cache_dir;

/* The names left in the backing file's directory. */
static guint
count_cache_files (void)
{
  g_autofree char *path = g_build_filename (cache_dir, "gaze", NULL);
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  guint n = 0;

  while (dir != NULL && g_dir_read_name (dir) != NULL)
    n++;

  return n;
}

static void
remove_cache (const char *path)
{
  g_autofree char *gaze = g_build_filename (path, "gaze", NULL);

  g_rmdir (gaze);
  g_rmdir (path);
}

/* The coefficients of a progressive picture go to a file once they pass
 * the limit, and the picture comes out the same, bit for bit. */
static void
test_file_store_same_pixels (void)
{
  const Sample sample = { 1600, 1200, TRUE, FALSE, 0, FALSE };
  g_autoptr(GBytes) bytes = make_jpeg (&sample);
  const int fits[][2] = { { 200, 150 }, { 400, 300 }, { 1600, 1200 } };

  for (guint i = 0; i < G_N_ELEMENTS (fits); i++)
    {
      SizeData data = { fits[i][0], fits[i][1] };
      g_autoptr(GdkPixbuf) in_memory = NULL;
      g_autoptr(GdkPixbuf) in_file = NULL;
      g_autoptr(GError) error = NULL;
      gboolean used_file = TRUE;

      gaze_jpeg_set_memory_limit (G_MAXSIZE);
      in_memory = decode (bytes, 0, &data, &used_file, &error);
      g_assert_no_error (error);
      g_assert_false (used_file);

      gaze_jpeg_set_memory_limit (0);
      in_file = decode (bytes, 0, &data, &used_file, &error);
      g_assert_no_error (error);
      g_assert_true (used_file);
      /* The file had no name, or lost it at once. */
      g_assert_cmpuint (count_cache_files (), ==, 0);

      g_assert_cmpint (gdk_pixbuf_get_width (in_file), ==, fits[i][0]);
      g_assert_cmpint (gdk_pixbuf_get_height (in_file), ==, fits[i][1]);
      assert_same_pixels (in_memory, in_file);
    }

  gaze_jpeg_set_memory_limit (16 * 1024 * 1024);
}

/* Bytes can come a few at a time: libjpeg suspends and resumes, in every
 * kind of file and with either store. */
static void
test_chunks (void)
{
  const Sample samples[] = {
    { 333, 211, FALSE, FALSE, 0, FALSE },
    { 333, 211, TRUE, FALSE, 0, FALSE },
  };
  const gsize chunks[] = { 1, 7, 100, 4096 };

  for (guint i = 0; i < G_N_ELEMENTS (samples); i++)
    {
      g_autoptr(GBytes) bytes = make_jpeg (&samples[i]);
      SizeData data = { 167, 106 };
      g_autoptr(GdkPixbuf) whole = NULL;
      g_autoptr(GError) error = NULL;

      whole = decode (bytes, 0, &data, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (data.n_calls, ==, 1);
      g_assert_cmpint (data.seen_width, ==, 333);
      g_assert_cmpint (data.seen_height, ==, 211);

      for (guint j = 0; j < G_N_ELEMENTS (chunks); j++)
        for (gsize limit = 0; limit <= 1; limit++)
          {
            g_autoptr(GdkPixbuf) pieces = NULL;
            SizeData piece_data = { 167, 106 };

            gaze_jpeg_set_memory_limit (limit == 0 ? 0 : G_MAXSIZE);
            pieces = decode (bytes, chunks[j], &piece_data, NULL, &error);
            g_assert_no_error (error);
            g_assert_cmpuint (piece_data.n_calls, ==, 1);
            assert_same_pixels (whole, pieces);
          }
    }

  gaze_jpeg_set_memory_limit (16 * 1024 * 1024);
}

/* The colours are right: decoded at a reduced scale, the picture matches
 * gdk-pixbuf's full-size decoding scaled down. */
static void
test_matches_gdk_pixbuf (void)
{
  /* libjpeg's 1/2 and 1/4 scales, then a picture more than 8 times larger
   * than the fit, which is also averaged over blocks of pixels. */
  const struct {
    Sample sample;
    int    fit_width;
    int    fit_height;
    gsize  memory_limit;
  } cases[] = {
    { { 1024, 768, FALSE, FALSE, 0, FALSE }, 256, 192, G_MAXSIZE },
    { { 1024, 768, TRUE, FALSE, 0, FALSE }, 256, 192, 0 },
    { { 2000, 1500, FALSE, FALSE, 0, FALSE }, 60, 45, G_MAXSIZE },
    { { 2000, 1500, TRUE, FALSE, 0, FALSE }, 37, 28, 0 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GBytes) bytes = make_jpeg (&cases[i].sample);
      g_autoptr(GInputStream) stream = g_memory_input_stream_new_from_bytes (bytes);
      g_autoptr(GdkPixbuf) full = NULL;
      g_autoptr(GdkPixbuf) reference = NULL;
      g_autoptr(GdkPixbuf) ours = NULL;
      g_autoptr(GError) error = NULL;
      SizeData data = { cases[i].fit_width, cases[i].fit_height };
      double difference;

      full = gdk_pixbuf_new_from_stream (stream, NULL, &error);
      g_assert_no_error (error);
      reference = gdk_pixbuf_scale_simple (full, cases[i].fit_width, cases[i].fit_height,
                                           GDK_INTERP_HYPER);

      gaze_jpeg_set_memory_limit (cases[i].memory_limit);
      ours = decode (bytes, 4096, &data, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpint (gdk_pixbuf_get_width (ours), ==, cases[i].fit_width);
      g_assert_cmpint (gdk_pixbuf_get_height (ours), ==, cases[i].fit_height);

      difference = mean_difference (ours, reference);
      g_test_message ("case %u: mean difference %.2f levels", i, difference);
      g_assert_cmpfloat (difference, <, 6.0);
    }

  gaze_jpeg_set_memory_limit (16 * 1024 * 1024);
}

static void
test_never_larger (void)
{
  const Sample sample = { 300, 200, FALSE, FALSE, 0, FALSE };
  g_autoptr(GBytes) bytes = make_jpeg (&sample);
  g_autoptr(GdkPixbuf) pixbuf = NULL;
  g_autoptr(GError) error = NULL;
  SizeData data = { 3000, 2000 };

  /* A caller asking for more than the picture has gets the picture. */
  pixbuf = decode (bytes, 0, &data, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (gdk_pixbuf_get_width (pixbuf), ==, 300);
  g_assert_cmpint (gdk_pixbuf_get_height (pixbuf), ==, 200);
}

static void
test_orientation (void)
{
  for (int orientation = 0; orientation <= 8; orientation++)
    for (int big_endian = 0; big_endian <= 1; big_endian++)
      {
        const Sample sample = { 64, 48, orientation % 2 == 0, FALSE, orientation, big_endian };
        g_autoptr(GBytes) bytes = make_jpeg (&sample);
        g_autoptr(GdkPixbuf) pixbuf = NULL;
        g_autoptr(GError) error = NULL;
        SizeData data = { 0 };
        const char *option;

        pixbuf = decode (bytes, 5, &data, NULL, &error);
        g_assert_no_error (error);

        option = gdk_pixbuf_get_option (pixbuf, "orientation");
        if (orientation <= 1)
          g_assert_null (option);
        else
          {
            g_autofree char *expected = g_strdup_printf ("%d", orientation);

            g_assert_cmpstr (option, ==, expected);
          }
      }
}

/* A CMYK JPEG with an Adobe marker stores its inks inverted. */
static void
test_cmyk (void)
{
  const Sample sample = { 80, 60, FALSE, TRUE, 0, FALSE };
  g_autoptr(GBytes) bytes = make_jpeg (&sample);
  g_autoptr(GdkPixbuf) pixbuf = NULL;
  g_autoptr(GError) error = NULL;
  SizeData data = { 0 };
  const guint8 *p;

  pixbuf = decode (bytes, 0, &data, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (gdk_pixbuf_get_has_alpha (pixbuf));

  p = gdk_pixbuf_read_pixels (pixbuf) + 30 * gdk_pixbuf_get_rowstride (pixbuf) + 40 * 3;
  g_assert_cmpint (p[0], >, 240);
  g_assert_cmpint (p[1], <, 15);
  g_assert_cmpint (p[2], <, 15);
}

static void
test_refused (void)
{
  const Sample sample = { 120, 90, TRUE, FALSE, 0, FALSE };
  g_autoptr(GBytes) bytes = make_jpeg (&sample);
  g_autoptr(GazeJpeg) jpeg = NULL;
  g_autoptr(GError) error = NULL;
  SizeData data = { .refuse = TRUE };
  gsize len;
  const guint8 *p = g_bytes_get_data (bytes, &len);

  jpeg = gaze_jpeg_new (size_cb, &data, NULL);
  g_assert_false (gaze_jpeg_write (jpeg, p, len, &error));
  g_assert_error (error, GDK_PIXBUF_ERROR, GDK_PIXBUF_ERROR_FAILED);
  g_assert_cmpuint (data.n_calls, ==, 1);

  /* Once stopped, it stays stopped. */
  g_clear_error (&error);
  g_assert_null (gaze_jpeg_finish (jpeg, &error));
  g_assert_nonnull (error);
}

static void
test_damaged (void)
{
  const Sample sample = { 120, 90, TRUE, FALSE, 0, FALSE };
  g_autoptr(GBytes) bytes = make_jpeg (&sample);
  gsize len;
  const guint8 *p = g_bytes_get_data (bytes, &len);
  const guint8 garbage[] = { 0xff, 0xd8, 0xff, 0xc0, 0x00, 0x03, 0x42, 0x42, 0x42, 0x42 };
  g_autoptr(GError) error = NULL;

  /* Not a JPEG at all. */
  {
    g_autoptr(GazeJpeg) jpeg = gaze_jpeg_new (size_cb, &(SizeData) { 0 }, NULL);

    if (gaze_jpeg_write (jpeg, (const guint8 *) "GIF89a........", 14, &error))
      g_assert_null (gaze_jpeg_finish (jpeg, &error));
    g_assert_error (error, GDK_PIXBUF_ERROR, GDK_PIXBUF_ERROR_CORRUPT_IMAGE);
    g_clear_error (&error);
  }

  /* A frame header that is too short. */
  {
    g_autoptr(GazeJpeg) jpeg = gaze_jpeg_new (size_cb, &(SizeData) { 0 }, NULL);

    if (gaze_jpeg_write (jpeg, garbage, sizeof garbage, &error))
      g_assert_null (gaze_jpeg_finish (jpeg, &error));
    g_assert_error (error, GDK_PIXBUF_ERROR, GDK_PIXBUF_ERROR_CORRUPT_IMAGE);
    g_clear_error (&error);
  }

  /* Only the header: nothing to show. */
  {
    g_autoptr(GazeJpeg) jpeg = gaze_jpeg_new (size_cb, &(SizeData) { 0 }, NULL);

    g_assert_true (gaze_jpeg_write (jpeg, p, 2, &error));
    g_assert_null (gaze_jpeg_finish (jpeg, &error));
    g_assert_nonnull (error);
    g_clear_error (&error);
  }

  /* Cut in the middle of the scans: libjpeg finishes it in grey, without
   * crashing; telling that it was cut is the caller's part. Every length
   * is tried, with both stores. */
  for (gsize limit = 0; limit <= 1; limit++)
    {
      gaze_jpeg_set_memory_limit (limit == 0 ? 0 : G_MAXSIZE);
      for (gsize cut = 3; cut < len; cut += 37)
        {
          g_autoptr(GazeJpeg) jpeg = gaze_jpeg_new (size_cb, &(SizeData) { 60, 45 }, NULL);
          g_autoptr(GdkPixbuf) pixbuf = NULL;

          if (gaze_jpeg_write (jpeg, p, cut, &error))
            pixbuf = gaze_jpeg_finish (jpeg, &error);
          g_assert_true ((pixbuf != NULL) != (error != NULL));
          g_clear_error (&error);
        }
    }

  gaze_jpeg_set_memory_limit (16 * 1024 * 1024);
}

/* The encoder writes the picture and nothing about where it came from:
 * the only application segment is JFIF's, and there is no comment. */
static void
test_encode (void)
{
  const Sample sample = { 640, 480, TRUE, FALSE, 6, FALSE };
  g_autoptr(GBytes) source = make_jpeg (&sample);
  g_autoptr(GdkPixbuf) pixbuf = NULL;
  g_autoptr(GdkPixbuf) back = NULL;
  g_autoptr(GBytes) encoded = NULL;
  g_autoptr(GInputStream) stream = NULL;
  g_autoptr(GError) error = NULL;
  SizeData data = { 0 };
  const guint8 *p;
  gsize len;
  gsize i = 2;
  guint n_app0 = 0;

  pixbuf = decode (source, 0, &data, NULL, &error);
  g_assert_no_error (error);

  encoded = gaze_jpeg_encode (pixbuf, 85, &error);
  g_assert_no_error (error);
  p = g_bytes_get_data (encoded, &len);
  g_assert_cmpuint (len, >, 1000);
  g_assert_cmpint (p[0], ==, 0xff);
  g_assert_cmpint (p[1], ==, 0xd8);

  /* Every segment up to the start of the scan. */
  while (i + 4 <= len && p[i] == 0xff && p[i + 1] != 0xda)
    {
      guint8 code = p[i + 1];

      g_assert_false (code > 0xe0 && code <= 0xef);
      g_assert_cmpint (code, !=, 0xfe);
      if (code == 0xe0)
        n_app0++;
      i += 2 + ((gsize) p[i + 2] << 8 | p[i + 3]);
    }
  g_assert_cmpint (p[i + 1], ==, 0xda);
  g_assert_cmpuint (n_app0, ==, 1);
  g_assert_cmpint (p[len - 2], ==, 0xff);
  g_assert_cmpint (p[len - 1], ==, 0xd9);

  stream = g_memory_input_stream_new_from_bytes (encoded);
  back = gdk_pixbuf_new_from_stream (stream, NULL, &error);
  g_assert_no_error (error);
  g_assert_null (gdk_pixbuf_get_option (back, "orientation"));
  g_assert_cmpfloat (mean_difference (pixbuf, back), <, 5.0);
}

/* When the disk is full, the coefficients cannot go to their file: the
 * decoder says so, and the photo gets a sentence about disk space. A file
 * size limit stands in for a full disk. */
static void
test_disk_full (void)
{
  if (g_test_subprocess ())
    {
      const Sample sample = { 1600, 1200, TRUE, FALSE, 0, FALSE };
      g_autoptr(GBytes) bytes = make_jpeg (&sample);
      struct rlimit limit = { 64 * 1024, 64 * 1024 };
      g_autoptr(GdkPixbuf) pixbuf = NULL;
      g_autoptr(GazeImage) image = NULL;
      g_autoptr(GError) error = NULL;
      SizeData data = { 400, 300 };

      signal (SIGXFSZ, SIG_IGN);
      g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &limit), ==, 0);
      gaze_jpeg_set_memory_limit (0);

      pixbuf = decode (bytes, 0, &data, NULL, &error);
      g_assert_null (pixbuf);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE);
      g_clear_error (&error);

      image = gaze_image_prepare_bytes (bytes, "pano.jpg", GAZE_DETAIL_HIGH, NULL, &error);
      g_assert_null (image);
      g_assert_error (error, GAZE_IMAGE_ERROR, GAZE_IMAGE_ERROR_TOO_LARGE);
      g_assert_nonnull (strstr (error->message, "“pano.jpg”"));
      g_assert_nonnull (strstr (error->message, "disk space"));
      g_assert_cmpuint (count_cache_files (), ==, 0);
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

/* Every layout of the coefficients: sampling other than 2×2, a sequential
 * file in one scan per component (which keeps every coefficient too, like
 * a progressive one), and arithmetic coding, which libjpeg cannot suspend,
 * fed in the app's 64 kB pieces. The file store gives the same pixels as
 * memory, and pieces the same as the whole. */
static void
test_layouts (void)
{
  const struct {
    Sample   sample;
    gboolean multi_scan;
  } cases[] = {
    { { 1200, 900, TRUE, FALSE, 0, FALSE, FALSE, FALSE, 1, 2 }, TRUE },   /* 4:4:0 */
    { { 1200, 900, TRUE, FALSE, 0, FALSE, FALSE, FALSE, 4, 1 }, TRUE },   /* 4:1:1 */
    { { 1200, 900, FALSE, FALSE, 0, FALSE, FALSE, TRUE, 0, 0 }, TRUE },
    { { 2000, 1500, FALSE, FALSE, 0, FALSE, TRUE, FALSE, 0, 0 }, FALSE },
    { { 2000, 1500, TRUE, FALSE, 0, FALSE, TRUE, FALSE, 0, 0 }, TRUE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GBytes) bytes = make_jpeg (&cases[i].sample);
      g_autoptr(GdkPixbuf) whole = NULL;
      g_autoptr(GdkPixbuf) pieces = NULL;
      g_autoptr(GError) error = NULL;
      SizeData data = { 300, 225 };
      gboolean used_file = FALSE;

      g_test_message ("case %u: %" G_GSIZE_FORMAT " bytes", i, g_bytes_get_size (bytes));
      g_assert_cmpuint (g_bytes_get_size (bytes), >, 64 * 1024);

      gaze_jpeg_set_memory_limit (G_MAXSIZE);
      whole = decode (bytes, 0, &data, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpint (data.seen_multi_scan, ==, cases[i].multi_scan);

      gaze_jpeg_set_memory_limit (0);
      pieces = decode (bytes, 64 * 1024, &data, &used_file, &error);
      g_assert_no_error (error);
      g_assert_cmpint (used_file, ==, cases[i].multi_scan);
      assert_same_pixels (whole, pieces);
    }

  gaze_jpeg_set_memory_limit (16 * 1024 * 1024);
}

/* A file whose last scan comes again and again would keep libjpeg busy for
 * as long as it has scans; it is refused past 500. */
static void
test_too_many_scans (void)
{
  const Sample sample = { 320, 240, TRUE, FALSE, 0, FALSE };
  g_autoptr(GBytes) bytes = make_jpeg (&sample);
  g_autoptr(GByteArray) repeated = g_byte_array_new ();
  g_autoptr(GdkPixbuf) pixbuf = NULL;
  g_autoptr(GError) error = NULL;
  SizeData data = { 0 };
  gsize len;
  const guint8 *p = g_bytes_get_data (bytes, &len);
  gsize last_scan = 0;

  /* The last SOS marker; the scan runs from it to EOI at the end. */
  for (gsize i = 0; i + 1 < len; i++)
    if (p[i] == 0xff && p[i + 1] == 0xda)
      last_scan = i;
  g_assert_cmpuint (last_scan, >, 0);
  g_assert_cmpint (p[len - 2], ==, 0xff);
  g_assert_cmpint (p[len - 1], ==, 0xd9);

  g_byte_array_append (repeated, p, len - 2);
  for (guint i = 0; i < 600; i++)
    g_byte_array_append (repeated, p + last_scan, len - 2 - last_scan);
  g_byte_array_append (repeated, p + len - 2, 2);

  {
    g_autoptr(GBytes) many = g_bytes_new (repeated->data, repeated->len);

    pixbuf = decode (many, 4096, &data, NULL, &error);
    g_assert_null (pixbuf);
    g_assert_error (error, GDK_PIXBUF_ERROR, GDK_PIXBUF_ERROR_CORRUPT_IMAGE);
    g_assert_nonnull (strstr (error->message, "500"));
  }
}

/* A cancelled preparation stops at the next row of blocks. */
static void
test_cancel (void)
{
  const Sample sample = { 640, 480, TRUE, FALSE, 0, FALSE };
  g_autoptr(GBytes) bytes = make_jpeg (&sample);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GazeJpeg) jpeg = NULL;
  g_autoptr(GdkPixbuf) pixbuf = NULL;
  g_autoptr(GError) error = NULL;
  SizeData data = { 0 };
  gsize len;
  const guint8 *p = g_bytes_get_data (bytes, &len);

  jpeg = gaze_jpeg_new (size_cb, &data, cancellable);
  g_assert_true (gaze_jpeg_write (jpeg, p, len / 2, &error));
  g_assert_no_error (error);

  g_cancellable_cancel (cancellable);
  if (gaze_jpeg_write (jpeg, p + len / 2, len - len / 2, &error))
    pixbuf = gaze_jpeg_finish (jpeg, &error);
  g_assert_null (pixbuf);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *cache = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);

  /* Only the cache directory is isolated: gdk-pixbuf needs the system's
   * MIME database, which G_TEST_OPTION_ISOLATE_DIRS would hide. */
  cache = g_dir_make_tmp ("gaze-test-jpeg-XXXXXX", NULL);
  g_assert_nonnull (cache);
  g_setenv ("XDG_CACHE_HOME", cache, TRUE);
  cache_dir = cache;

  g_test_add_func ("/jpeg/file-store-same-pixels", test_file_store_same_pixels);
  g_test_add_func ("/jpeg/chunks", test_chunks);
  g_test_add_func ("/jpeg/matches-gdk-pixbuf", test_matches_gdk_pixbuf);
  g_test_add_func ("/jpeg/never-larger", test_never_larger);
  g_test_add_func ("/jpeg/orientation", test_orientation);
  g_test_add_func ("/jpeg/cmyk", test_cmyk);
  g_test_add_func ("/jpeg/refused", test_refused);
  g_test_add_func ("/jpeg/damaged", test_damaged);
  g_test_add_func ("/jpeg/encode", test_encode);
  g_test_add_func ("/jpeg/disk-full", test_disk_full);
  g_test_add_func ("/jpeg/layouts", test_layouts);
  g_test_add_func ("/jpeg/too-many-scans", test_too_many_scans);
  g_test_add_func ("/jpeg/cancel", test_cancel);

  status = g_test_run ();

  remove_cache (cache);

  return status;
}
