// Intentionally empty. Hardhat is not used: this file only lets Slither's hardhat framework find the
// project; it reads artifacts/build-info/*.json, which `node scripts/compile.js` writes (solc-js).
module.exports = {};
