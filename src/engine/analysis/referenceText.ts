// A fixed reference text for the geometry card: the matrix entropy of a layer depends strongly on
// how many token states it is computed over (0.45 at 16 tokens and 0.67 at 255 on one text, same
// layer), so a value only means something next to the same layer's value on another text of the
// same length. The text is this project's own writing (no licence question), half plain English
// prose and half technical prose with a little code, so that it is ordinary for the bundled pack
// (trained on documentation and source) and for general English models alike. It must tokenize to
// more than a context window with any byte-level tokenizer (about 3,000 characters: at least 255
// tokens even at 8 characters per token).
export const REFERENCE_NAME = 'the built-in reference text (plain and technical English prose, src/engine/analysis/referenceText.ts)';

export const REFERENCE_TEXT = `The library opened at nine in the morning, and by ten most of the tables near the windows were taken. People came for different reasons: some to read the newspapers, some to use the computers, and some simply because the building was warm and quiet. An old man sat in the same chair every day, working slowly through a book about the history of bridges. He said that every bridge was an argument about weight, and that the good ones won the argument without anyone noticing.

In the afternoon a class of children arrived with their teacher. They were learning how to find things: how a book gets its number, why the numbers are arranged on the shelves the way they are, and what to do when the catalogue says a book is there but the shelf says it is not. The teacher told them that a library is a promise that things can be found again, and that keeping the promise takes more work than most visitors imagine.

This section describes how the configuration file is read. When the program starts, it looks for a file named settings.json in the current directory and then in the user's home directory. The first file found is parsed, and each key is checked against the list of known options. Unknown keys produce a warning rather than an error, so that a newer file can still be used with an older version of the program. Values of the wrong type are rejected with a message that names the key, the expected type and the value that was found.

The following function returns the number of lines in a file, or zero when the file does not exist:

    def count_lines(path):
        try:
            with open(path, encoding="utf-8") as f:
                return sum(1 for _ in f)
        except FileNotFoundError:
            return 0

Options given on the command line take precedence over the file. For example, passing --verbose turns on detailed output even when the file sets verbose to false. A value of null in the file means that the default is used, which is useful when a setting has been copied from another machine and should not apply here.

Errors are reported on standard error, one line each, and the exit status tells a script what went wrong: zero for success, one for a failure while running, and two for a mistake in the arguments. Long operations print their progress only when the output is a terminal, so that log files stay readable.

At the end of the day the old man closed his book, put it back on the cart rather than on the shelf, as the sign asked, and walked home along the river. The bridge he crossed was built a hundred years ago, and it still carried the weight of every person who walked over it without anyone noticing at all.
`;
