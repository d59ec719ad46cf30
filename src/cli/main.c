/* main.c -- the sweep program: a thin wrapper around the library. */
#include "cli/cli.h"

int main(int argc, char **argv)
{
    return cli_main(argc, argv);
}
