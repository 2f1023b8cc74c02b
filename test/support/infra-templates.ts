/**
 * The CloudFormation templates in infra/, read as data, and the lambda-gitops functions they deploy
 * from the project's package (dist/lambda-gitops.zip): shared by the template checks
 * (test/unit/infra/) and the package test (test/integration/package.test.ts).
 */
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { isObject, type JsonObject, loadTemplate, type Template } from "./cfn.ts";

export const INFRA_DIR = fileURLToPath(new URL("../../infra/", import.meta.url));

/** Every template in infra/, by file name (`reconciler.yaml`), in name order. */
export function infraTemplates(): { file: string; template: Template }[] {
  return readdirSync(INFRA_DIR)
    .filter((file) => file.endsWith(".yaml"))
    .sort()
    .map((file) => ({ file, template: loadTemplate(`${INFRA_DIR}${file}`) }));
}

export interface PackagedFunction {
  file: string;
  logicalId: string;
  /** `Handler` as the template writes it: `<module>.<export>`. */
  handler: string;
  /** The FunctionName parameter's default: the name the function gets when deployed as documented. */
  defaultName: string;
}

const refersTo = (value: unknown, parameter: string) => isObject(value) && value.Ref === parameter;

/**
 * Every `AWS::Lambda::Function` whose code is the package (`Code.S3Bucket: !Ref CodeS3Bucket`,
 * `Code.S3Key: !Ref CodeS3Key`), across all templates.
 */
export function packagedFunctions(): PackagedFunction[] {
  return infraTemplates().flatMap(({ file, template }) =>
    Object.entries(template.Resources).flatMap(([logicalId, resource]): PackagedFunction[] => {
      if (!isObject(resource) || resource.Type !== "AWS::Lambda::Function") return [];
      const properties = resource.Properties as JsonObject;
      const code = properties.Code as JsonObject;
      if (!refersTo(code.S3Bucket, "CodeS3Bucket") || !refersTo(code.S3Key, "CodeS3Key")) return [];
      if (typeof properties.Handler !== "string") throw new Error(`${file} ${logicalId}: Handler is not a literal`);
      if (!refersTo(properties.FunctionName, "FunctionName")) {
        throw new Error(`${file} ${logicalId}: FunctionName is not !Ref FunctionName`);
      }
      const defaultName = template.Parameters?.FunctionName?.Default;
      if (typeof defaultName !== "string") throw new Error(`${file}: FunctionName has no default`);
      return [{ file, logicalId, handler: properties.Handler, defaultName }];
    }),
  );
}
