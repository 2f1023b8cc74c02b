/** Percentages of traffic as the definition writes them (canary weights, rollout steps). Pure. */

/**
 * Why a percentage of traffic has more than two decimals (`subject` names it in the message), or
 * undefined. Lambda stores weights as fractions; two decimals of a percentage is what it keeps.
 */
export function checkTwoDecimals(weight: number, subject: string): string | undefined {
  // Exact: the number must be the one its two-decimal rendering denotes. A tolerance would let
  // 99.999999999999 (100% once Lambda stores it) or 1e-12 (0%) through.
  if (Number(weight.toFixed(2)) !== weight) {
    const rounded = Math.round(weight * 100) / 100;
    const hint = rounded > 0 && rounded < 100 ? ` (e.g. ${rounded})` : "";
    return `${subject} ${weight} has more than two decimal places${hint}`;
  }
  return undefined;
}
