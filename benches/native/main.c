/* Native-C baseline: a whole-process driver for one benchmark program built with
   gcc -O2 (see run.sh). RET is the type of the program's run(): `long long` for nbody,
   `unsigned` for the others. */
#include <stdio.h>
#include <stdlib.h>

RET run(unsigned n);

int main(int argc, char **argv) {
    unsigned n = argc > 1 ? (unsigned)strtoul(argv[1], 0, 10) : 1;
    printf("%lld\n", (long long)run(n));
    return 0;
}
