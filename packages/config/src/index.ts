/** Configuration from the environment: declare a spec, parse it once in `main.ts`, pass the result down. */

export { dataDirField, logLevelField } from "./common-fields.ts";
export {
  type ConfigCheck,
  ConfigError,
  type ConfigField,
  type ConfigOf,
  type ConfigSpec,
  configVariables,
  parseConfig,
  parseConfigOrExit,
} from "./config.ts";
export { env } from "./fields.ts";
