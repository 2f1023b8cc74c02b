#!/usr/bin/env bash
# Lint the CloudFormation templates in infra/ with cfn-lint (aws-cloudformation/cfn-lint, the Python
# tool; NOT the unrelated "cfn-lint" package on the npm registry). cfn-lint understands the
# AWS::LanguageExtensions transform, so it also checks the Fn::ForEach-generated policies.
#
# cfn-lint comes preinstalled (pip, 1.51.0) on this project's machine image. It is not in Debian and
# PyPI is not reachable here, so it cannot be installed on a machine that lacks it; elsewhere:
#   pip install cfn-lint
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cfn-lint >/dev/null 2>&1; then
  echo "lint-infra: cfn-lint not found on PATH (pip install cfn-lint); infra is still covered by test/unit/infra.test.ts" >&2
  exit 127
fi

cfn-lint --version
# Regions listed so Region-specific resource specs are checked too; add yours.
cfn-lint --regions us-east-1 eu-west-1 -- infra/*.yaml
echo "lint-infra: OK"
