/* main.c -- the tostc executable: everything is in driver.c. */
#include "tostc.h"

int main(int argc, char **argv) { return driver_main(argc, argv, stderr); }
