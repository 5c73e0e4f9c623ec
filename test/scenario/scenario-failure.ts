import { ScenarioError } from '../../src/errors.js';
import { parseScenario } from '../../src/scenario/load.js';

/** The ScenarioError that parsing `text` must raise (as if read from `file`); anything else fails the test. */
export function scenarioFailure(text: string, file = 'x.yaml'): ScenarioError {
  try {
    parseScenario(text, file);
  } catch (e) {
    if (e instanceof ScenarioError) return e;
    throw e;
  }
  throw new Error('expected a ScenarioError');
}
