pragma circom 2.1.6;

// Toy circuit for the ceremony test (fits 2^8): x is in [0, 2^64) and x * (x + 1) == y.
include "bitify.circom";

template Toy() {
    signal input x;
    signal input y;
    component bits = Num2Bits(64);
    bits.in <== x;
    y === x * (x + 1);
}

component main {public [y]} = Toy();
