pragma circom 2.1.6;

// scf-ledger credit predicate: proves facts about a bureau-committed credit report without
// revealing the values. The report is 16 leaves of a 4-ary depth-2 Poseidon tree; field i sits at a
// fixed slot as Poseidon(KEY_i, value, salt) (zk/schema.py defines the keys); unused slots hold
// random decoys. Public: root, policyHash, today, lenderId, nonce (5 signals).
// No `<--` anywhere: every signal is assigned with `<==` (or by circomlib templates).
include "poseidon.circom";
include "comparators.circom";
include "bitify.circom";
include "mux3.circom";

template RangeCheck(n) {
    signal input in;
    component bits = Num2Bits(n);
    bits.in <== in;
}

template CreditPredicate() {
    // --- public
    signal input root;
    signal input policyHash;
    signal input today;       // day number (days since 1970-01-01, UTC)
    signal input lenderId;    // the lender's address as an integer
    signal input nonce;       // lender-issued, single-use

    // --- private: the five fields used, their salts, and the other eleven leaves
    signal input score;
    signal input scoreSalt;
    signal input judgments;
    signal input judgmentsSalt;
    signal input taxGrade;
    signal input taxGradeSalt;
    signal input revenue;
    signal input revenueSalt;
    signal input reportDate;
    signal input reportDateSalt;
    signal input otherLeaves[11];

    // --- private: the policy operands (their hash is public)
    signal input minScore;
    signal input maxJudgments;
    signal input taxMask;     // bit g set: tax grade g accepted
    signal input revenueLo;
    signal input revenueHi;
    signal input maxAgeDays;

    // Slots and keys (zk/schema.py): the key is the field name as big-endian ASCII.
    var KEY_SCORE = 0x6372656469745f73636f7265;              // "credit_score"
    var KEY_JUDGMENTS = 0x636f7572745f6a7564676d656e7473;     // "court_judgments"
    var KEY_TAX = 0x7461785f6772616465;                      // "tax_grade"
    var KEY_REVENUE = 0x616e6e75616c5f726576656e75655f63656e7473; // "annual_revenue_cents"
    var KEY_DATE = 0x7265706f72745f646179;                   // "report_day"

    component leafHash[5];
    var keys[5] = [KEY_SCORE, KEY_JUDGMENTS, KEY_TAX, KEY_REVENUE, KEY_DATE];
    signal fieldValue[5];
    signal fieldSalt[5];
    fieldValue[0] <== score;      fieldSalt[0] <== scoreSalt;
    fieldValue[1] <== judgments;  fieldSalt[1] <== judgmentsSalt;
    fieldValue[2] <== taxGrade;   fieldSalt[2] <== taxGradeSalt;
    fieldValue[3] <== revenue;    fieldSalt[3] <== revenueSalt;
    fieldValue[4] <== reportDate; fieldSalt[4] <== reportDateSalt;
    for (var i = 0; i < 5; i++) {
        leafHash[i] = Poseidon(3);
        leafHash[i].inputs[0] <== keys[i];
        leafHash[i].inputs[1] <== fieldValue[i];
        leafHash[i].inputs[2] <== fieldSalt[i];
    }

    // Slots 0..3 are score, judgments, tax grade, revenue; slot 8 is the report day.
    signal level0[16];
    level0[0] <== leafHash[0].out;
    level0[1] <== leafHash[1].out;
    level0[2] <== leafHash[2].out;
    level0[3] <== leafHash[3].out;
    for (var i = 4; i < 8; i++) {
        level0[i] <== otherLeaves[i - 4];
    }
    level0[8] <== leafHash[4].out;
    for (var i = 9; i < 16; i++) {
        level0[i] <== otherLeaves[i - 5];
    }

    // A 4-ary Poseidon tree: four Poseidon(4) nodes over the leaves, one Poseidon(4) root
    // (about half the constraints of a binary tree of Poseidon(2) nodes).
    component nodes[4];
    for (var i = 0; i < 4; i++) {
        nodes[i] = Poseidon(4);
        for (var j = 0; j < 4; j++) {
            nodes[i].inputs[j] <== level0[4 * i + j];
        }
    }
    component top = Poseidon(4);
    for (var i = 0; i < 4; i++) {
        top.inputs[i] <== nodes[i].out;
    }
    root === top.out;

    // Policy binding: policyHash = Poseidon(operands).
    component ph = Poseidon(6);
    ph.inputs[0] <== minScore;
    ph.inputs[1] <== maxJudgments;
    ph.inputs[2] <== taxMask;
    ph.inputs[3] <== revenueLo;
    ph.inputs[4] <== revenueHi;
    ph.inputs[5] <== maxAgeDays;
    policyHash === ph.out;

    // Range checks first (Num2Bits): every comparator input below is bounded by them.
    var U64 = 64;
    var DAYS = 32;
    component range64[7];
    signal in64[7];
    in64[0] <== score;
    in64[1] <== minScore;
    in64[2] <== judgments;
    in64[3] <== maxJudgments;
    in64[4] <== revenue;
    in64[5] <== revenueLo;
    in64[6] <== revenueHi;
    for (var i = 0; i < 7; i++) {
        range64[i] = RangeCheck(U64);
        range64[i].in <== in64[i];
    }
    component rangeDays[3];
    signal inDays[3];
    inDays[0] <== today;
    inDays[1] <== reportDate;
    inDays[2] <== maxAgeDays;
    for (var i = 0; i < 3; i++) {
        rangeDays[i] = RangeCheck(DAYS);
        rangeDays[i].in <== inDays[i];
    }

    // score >= minScore
    component scoreOk = GreaterEqThan(U64);
    scoreOk.in[0] <== score;
    scoreOk.in[1] <== minScore;
    scoreOk.out === 1;
    // judgments <= maxJudgments
    component judgmentsOk = GreaterEqThan(U64);
    judgmentsOk.in[0] <== maxJudgments;
    judgmentsOk.in[1] <== judgments;
    judgmentsOk.out === 1;
    // revenue in [revenueLo, revenueHi]
    component revenueLoOk = GreaterEqThan(U64);
    revenueLoOk.in[0] <== revenue;
    revenueLoOk.in[1] <== revenueLo;
    revenueLoOk.out === 1;
    component revenueHiOk = GreaterEqThan(U64);
    revenueHiOk.in[0] <== revenueHi;
    revenueHiOk.in[1] <== revenue;
    revenueHiOk.out === 1;
    // reportDate <= today (both < 2^32)
    component notFuture = GreaterEqThan(DAYS);
    notFuture.in[0] <== today;
    notFuture.in[1] <== reportDate;
    notFuture.out === 1;
    // reportDate + maxAgeDays >= today (the sum < 2^33: both terms < 2^32)
    component fresh = GreaterEqThan(DAYS + 1);
    fresh.in[0] <== reportDate + maxAgeDays;
    fresh.in[1] <== today;
    fresh.out === 1;

    // tax grade in the accepted set: grade < 8, mask < 2^8, bit[grade] of mask is 1
    component gradeBits = Num2Bits(3);
    gradeBits.in <== taxGrade;
    component maskBits = Num2Bits(8);
    maskBits.in <== taxMask;
    component pick = Mux3();
    for (var i = 0; i < 8; i++) {
        pick.c[i] <== maskBits.out[i];
    }
    for (var i = 0; i < 3; i++) {
        pick.s[i] <== gradeBits.out[i];
    }
    pick.out === 1;

    // Bind the replay-protection inputs into the constraint system (Semaphore-style).
    signal lenderSquare <== lenderId * lenderId;
    signal nonceSquare <== nonce * nonce;
}

component main {public [root, policyHash, today, lenderId, nonce]} = CreditPredicate();
