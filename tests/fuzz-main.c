/* fuzz-main.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Runs a fuzz target as an ordinary test, where there is no libFuzzer:
 * first every file of its seed corpus, then inputs mutated from them with
 * a fixed seed, so that each run tries the same inputs and a failure can
 * be replayed. A crash, an assertion, a GLib critical or warning (made
 * fatal here), or a leak or overflow under the sanitizers fails the test.
 *
 * Usage: fuzz-TARGET [--runs N] [--seed S] [--max-seconds T]
 *                    [--print-input I] CORPUS-DIR-OR-FILE...
 *
 * --print-input I writes the I-th mutated input to standard output and
 * runs nothing, to keep a failing input as a file.
 */

#include "config.h"

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <glib.h>

#define DEFAULT_RUNS 20000
#define DEFAULT_SEED 20240521
#define DEFAULT_MAX_SECONDS 8.0
#define MAX_INPUT_SIZE (64 * 1024)

int LLVMFuzzerTestOneInput (const uint8_t *data,
                            size_t         size);

/* Pieces that matter to the parsers under test, so that mutations reach
 * past their first checks more often than random bytes would.
 */
static const char * const dictionary[] = {
  "data: ", "data:", "\n", "\n\n", "\r\n", "\r", ": ", "event: ", "id: ", "retry: ",
  "[DONE]", "\xEF\xBB\xBF", "{", "}", "[", "]", "\"", ":", ",", "null", "true", "0", "-1",
  "1e999", "\\u0000", "\\ud800", "\\n", "\xC3", "\xF0\x9F", "\xFF",
  "\"choices\":", "[{\"index\":0,", "\"delta\":", "{\"content\":", "\"finish_reason\":",
  "\"content_filter\"", "\"length\"", "\"finish_details\":{\"type\":\"max_tokens\"}",
  "\"content_filter_results\":", "{\"filtered\":true,\"severity\":\"high\"}",
  "\"usage\":{\"prompt_tokens\":",
  "\"error\":{\"code\":\"429\",\"message\":\"retry after 9 seconds\"}",
  "\"innererror\":", "\"message\":", "https://", "http://",
  "openai.azure.com", "/openai/deployments/",
  "/chat/completions", "?api-version=2024-10-21", "%2F", "%00", "[::1]", ":443", "@", "#",
  "\xFF\xD8\xFF", "\xFF\xC0", "\xFF\xC2", "\xFF\xC4", "\xFF\xDA", "\xFF\xD9", "\xFF\xDD",
  "\xFF\xE1", "\xFF\xEE", "Exif", "MM", "II*", "\x01\x12", "\x12\x01", "Adobe",
};

/* Which input is running, so that a failure can say how to replay it. */
static volatile sig_atomic_t current_input = -1;

static void
say_which_input (int signal_number)
{
  char text[96];
  int length = 0;
  int n = current_input;
  char digits[16];
  int n_digits = 0;
  static const char before[] = "\nfuzz: this was mutated input ";
  static const char after[] = "; --print-input N writes it out\n";

  if (n >= 0)
    {
      memcpy (text, before, sizeof before - 1);
      length = sizeof before - 1;
      do
        digits[n_digits++] = '0' + n % 10;
      while ((n /= 10) > 0);
      while (n_digits > 0)
        text[length++] = digits[--n_digits];
      memcpy (text + length, after, sizeof after - 1);
      length += sizeof after - 1;
      if (write (STDERR_FILENO, text, length) < 0)
        {
          /* Nothing more can be done about it here. */
        }
    }

  signal (signal_number, SIG_DFL);
  raise (signal_number);
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return g_strcmp0 (*(const char * const *)a, *(const char * const *)b);
}

static GPtrArray *
load_corpus (char **paths)
{
  GPtrArray *corpus = g_ptr_array_new_with_free_func ((GDestroyNotify)g_bytes_unref);

  for (guint i = 0; paths != NULL && paths[i] != NULL; i++)
    {
      g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
      g_autoptr(GDir) dir = g_dir_open (paths[i], 0, NULL);
      const char *name;

      if (dir == NULL)
        g_ptr_array_add (names, g_strdup (paths[i]));

      while (dir != NULL && (name = g_dir_read_name (dir)))
        g_ptr_array_add (names, g_build_filename (paths[i], name, NULL));

      /* The order of a directory is not the same everywhere. */
      g_ptr_array_sort (names, compare_names);

      for (guint j = 0; j < names->len; j++)
        {
          g_autoptr(GError) error = NULL;
          char *contents = NULL;
          gsize length = 0;

          if (!g_file_get_contents (g_ptr_array_index (names, j), &contents, &length, &error))
            g_error ("%s", error->message);
          g_ptr_array_add (corpus, g_bytes_new_take (contents, length));
        }
    }

  return corpus;
}

/* The target gets a buffer of exactly the input's size, so that the
 * address sanitizer sees a read past its end.
 */
static void
run_one (const guint8 *data,
         gsize         size)
{
  g_autofree guint8 *copy = g_malloc (MAX (size, 1));

  if (size > 0)
    memcpy (copy, data, size);
  LLVMFuzzerTestOneInput (copy, size);
}

static void
mutate (GByteArray *input,
        GPtrArray  *corpus,
        GRand      *rand)
{
  guint n = 1 + g_rand_int_range (rand, 0, 4);

  for (guint i = 0; i < n; i++)
    {
      guint len = input->len;
      guint at = len > 0 ? g_rand_int_range (rand, 0, len) : 0;

      switch (g_rand_int_range (rand, 0, 8))
        {
        case 0: /* Flip a bit. */
          if (len > 0)
            input->data[at] ^= 1 << g_rand_int_range (rand, 0, 8);
          break;

        case 1: /* Set a byte. */
          if (len > 0)
            input->data[at] = g_rand_int_range (rand, 0, 256);
          break;

        case 2: /* Insert a piece of the dictionary. */
        case 3:
          {
            const char *word = dictionary[g_rand_int_range (rand, 0, G_N_ELEMENTS (dictionary))];
            g_autoptr(GByteArray) tail = g_byte_array_new ();

            g_byte_array_append (tail, input->data + at, len - at);
            g_byte_array_set_size (input, at);
            g_byte_array_append (input, (const guint8 *)word, strlen (word));
            g_byte_array_append (input, tail->data, tail->len);
          }
          break;

        case 4: /* Delete a range. */
          if (len > 0)
            g_byte_array_remove_range (input,
                                       at,
                                       g_rand_int_range (rand, 0, MIN (len - at, 64) + 1));
          break;

        case 5: /* Repeat a range. */
          if (len > 0)
            {
              guint count = g_rand_int_range (rand, 1, MIN (len - at, 256) + 1);
              g_autoptr(GByteArray) piece = g_byte_array_new ();

              g_byte_array_append (piece, input->data + at, count);
              for (guint k = g_rand_int_range (rand, 1, 8); k > 0; k--)
                g_byte_array_append (input, piece->data, piece->len);
            }
          break;

        case 6: /* Splice in the end of another seed. */
          if (corpus->len > 0)
            {
              GBytes *other = g_ptr_array_index (corpus, g_rand_int_range (rand, 0, corpus->len));
              gsize other_len = 0;
              const guint8 *other_data = g_bytes_get_data (other, &other_len);
              gsize from = other_len > 0 ? g_rand_int_range (rand, 0, other_len) : 0;

              g_byte_array_set_size (input, at);
              g_byte_array_append (input, other_data + from, other_len - from);
            }
          break;

        case 7: /* Cut the end off. */
          g_byte_array_set_size (input, at);
          break;

        default:
          g_assert_not_reached ();
        }

      if (input->len > MAX_INPUT_SIZE)
        g_byte_array_set_size (input, MAX_INPUT_SIZE);
    }
}

static GByteArray *
make_input (GPtrArray *corpus,
            GRand     *rand)
{
  GByteArray *input = g_byte_array_new ();

  if (corpus->len > 0)
    {
      gsize size = 0;
      const guint8 *data =
        g_bytes_get_data (g_ptr_array_index (corpus, g_rand_int_range (rand, 0, corpus->len)),
                          &size);

      g_byte_array_append (input, data, MIN (size, MAX_INPUT_SIZE));
    }

  mutate (input, corpus, rand);

  return input;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) context =
    g_option_context_new ("CORPUS-DIR-OR-FILE… — run a fuzz target");
  g_autoptr(GPtrArray) corpus = NULL;
  g_autoptr(GTimer) timer = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) paths = NULL;
  g_autofree char *name = g_path_get_basename (argv[0]);
  int runs = DEFAULT_RUNS;
  int seed = DEFAULT_SEED;
  int print_input = -1;
  double max_seconds = DEFAULT_MAX_SECONDS;
  GRand *rand;
  int done = 0;
  const GOptionEntry entries[] = {
    { "runs", 0, 0, G_OPTION_ARG_INT, &runs, "How many mutated inputs to run", "N" },
    { "seed", 0, 0, G_OPTION_ARG_INT, &seed, "The seed of the mutations", "S" },
    { "max-seconds", 0, 0, G_OPTION_ARG_DOUBLE, &max_seconds,
      "Stop the mutated inputs after this long", "T" },
    { "print-input", 0, 0, G_OPTION_ARG_INT, &print_input,
      "Write mutated input I to standard output", "I" },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &paths, NULL, NULL },
    { NULL }
  };

  /* A critical or a warning is a bug the fuzzer found. */
  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }

  corpus = load_corpus (paths);
  rand = g_rand_new_with_seed (seed);

  if (print_input >= 0)
    {
      for (int i = 0; i <= print_input; i++)
        {
          g_autoptr(GByteArray) input = make_input (corpus, rand);

          if (i == print_input)
            fwrite (input->data, 1, input->len, stdout);
        }
      g_rand_free (rand);
      return 0;
    }

  timer = g_timer_new ();

  for (guint i = 0; i < corpus->len; i++)
    {
      gsize size = 0;
      const guint8 *data = g_bytes_get_data (g_ptr_array_index (corpus, i), &size);

      run_one (data, size);
    }

  g_timer_start (timer);

  signal (SIGABRT, say_which_input);

  for (done = 0; done < runs; done++)
    {
      g_autoptr(GByteArray) input = make_input (corpus, rand);

      current_input = done;
      run_one (input->data, input->len);

      if ((done & 255) == 0 && g_timer_elapsed (timer, NULL) > max_seconds)
        {
          g_print ("%s: stopped after %.1f s\n", name, max_seconds);
          done++;
          break;
        }
    }

  g_print ("%s: %u seed files, %d mutated inputs (seed %d) in %.2f s, %.0f inputs/s\n",
           name, corpus->len, done, seed, g_timer_elapsed (timer, NULL),
           done / MAX (g_timer_elapsed (timer, NULL), 1e-6));

  g_rand_free (rand);

  return 0;
}
