import { useEffect, useState } from 'preact/hooks';
import {
  ApiError,
  CHOSEN_OPTIONS,
  createImage,
  getGenerationOptions,
  parseTags,
  type ChosenOption,
  type CreateImageBody,
  type GenerationOptions,
  type ImageDetail,
  type ModelOptions,
} from './api';
import type { Session } from './session';

/** The server's own limit on any prompt (docs/API.md); a model may take fewer. */
const PROMPT_MAX_LENGTH = 4000;

const OPTION_LABELS: Record<ChosenOption, string> = {
  size: 'Size',
  quality: 'Quality',
  background: 'Background',
  output_format: 'Format',
  style: 'Style',
};
const FORMAT_NAMES: Record<string, string> = { png: 'PNG', jpeg: 'JPEG', webp: 'WebP' };
const valueLabel = (option: ChosenOption, value: string) => (option === 'output_format' ? (FORMAT_NAMES[value] ?? value) : value);

/** The fields a problem's `errors[].path` (`/body/size`, `/body/tags/0`) names. */
function invalidFields(failure: unknown): Set<string> {
  const paths = failure instanceof ApiError ? (failure.problem.errors ?? []).map((error) => error.path) : [];
  return new Set(paths.map((path) => /^\/body\/([^/]+)/.exec(path)?.[1]).filter((field): field is string => field !== undefined));
}

/**
 * `POST /image` as a form, with the generation options the server offers (`GET /image/options`) as
 * selects that fit the chosen model. A select left at its default sends nothing, so the server's
 * default applies exactly as for any other client. While the generation runs the button is disabled
 * and a status says so; a refusal, a quota or a validation problem shows the problem's detail and
 * marks the fields it names.
 */
export function GenerateForm({ session, onCreated }: { session: Session; onCreated: (image: ImageDetail) => void }) {
  const [prompt, setPrompt] = useState('');
  const [tags, setTags] = useState('');
  const [options, setOptions] = useState<GenerationOptions>();
  const [model, setModel] = useState<string>();
  const [chosen, setChosen] = useState<Partial<Record<ChosenOption, string>>>({});
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const [invalid, setInvalid] = useState<Set<string>>(new Set());
  const [created, setCreated] = useState<string>();

  useEffect(() => {
    let live = true;
    // A server without GET /image/options: the form offers prompt and tags only.
    getGenerationOptions().then(
      (answer) => {
        if (!live) return;
        setOptions(answer);
        setModel(answer.default_model);
      },
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, []);

  const current: ModelOptions | undefined = options?.models.find((candidate) => candidate.model === model);

  function chooseModel(next: string) {
    setModel(next);
    // Keep only the choices the new model takes; the others fall back to its defaults.
    const rules = options?.models.find((candidate) => candidate.model === next);
    setChosen((previous) =>
      Object.fromEntries(Object.entries(previous).filter(([option, value]) => rules?.[option as ChosenOption].values.includes(value))),
    );
  }

  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    setInvalid(new Set());
    setCreated(undefined);
    const body: CreateImageBody = { prompt: prompt.trim(), tags: parseTags(tags) };
    if (current) {
      if (current.model !== options?.default_model) body.model = current.model;
      for (const option of CHOSEN_OPTIONS) {
        const value = chosen[option];
        if (value !== undefined && value !== current[option].default) body[option] = value;
      }
    }
    try {
      const image = await createImage(session.credentials, body);
      setPrompt('');
      setTags('');
      setCreated(image.prompt);
      onCreated(image);
    } catch (failure) {
      setError((failure as Error).message);
      setInvalid(invalidFields(failure));
    } finally {
      setBusy(false);
    }
  }

  /** ARIA state of a field the last refusal named: invalid, described by the problem's detail. */
  const validity = (field: string) => (invalid.has(field) ? { 'aria-invalid': true, 'aria-describedby': 'generate-error' } : {});

  return (
    <form class="generate" aria-labelledby="generate-title" onSubmit={submit} aria-busy={busy}>
      <h2 id="generate-title">Generate an image</h2>
      <label>
        Prompt
        <textarea
          name="prompt"
          rows={2}
          required
          maxLength={Math.min(PROMPT_MAX_LENGTH, current?.max_prompt_length ?? PROMPT_MAX_LENGTH)}
          value={prompt}
          onInput={(e) => setPrompt(e.currentTarget.value)}
          {...validity('prompt')}
        />
      </label>
      <label>
        Tags
        <input name="tags" value={tags} placeholder="comma-separated, e.g. sea, dusk" onInput={(e) => setTags(e.currentTarget.value)} {...validity('tags')} />
      </label>
      {options && current && (
        <fieldset class="options">
          <legend>Options</legend>
          <label>
            Model
            <select name="model" value={current.model} onChange={(e) => chooseModel(e.currentTarget.value)} {...validity('model')}>
              {options.models.map((candidate) => (
                <option key={candidate.model} value={candidate.model}>
                  {candidate.model === options.default_model ? `${candidate.model} (default)` : candidate.model}
                </option>
              ))}
            </select>
          </label>
          {CHOSEN_OPTIONS.filter((option) => current[option].values.length > 0).map((option) => (
            <OptionSelect
              key={`${current.model}:${option}`}
              option={option}
              values={current[option].values}
              fallback={current[option].default}
              value={chosen[option]}
              onChange={(value) => setChosen((previous) => ({ ...previous, [option]: value }))}
              validity={validity(option)}
            />
          ))}
        </fieldset>
      )}
      <div class="actions">
        <button type="submit" disabled={busy}>Generate</button>
        <span role="status" class="status">
          {busy ? 'Generating… this can take a while.' : created ? `Created “${created}”.` : ''}
        </span>
      </div>
      {error && <p id="generate-error" class="error" role="alert">{error}</p>}
    </form>
  );
}

/**
 * One option as a labelled select. With a stated default, that value is preselected and marked
 * "(default)"; without one, a first "Default" entry leaves the choice to the provider.
 */
function OptionSelect({ option, values, fallback, value, onChange, validity }: {
  option: ChosenOption;
  values: string[];
  fallback: string | null;
  value: string | undefined;
  onChange: (value: string | undefined) => void;
  validity: Record<string, unknown>;
}) {
  return (
    <label>
      {OPTION_LABELS[option]}
      <select name={option} value={value ?? fallback ?? ''} onChange={(e) => onChange(e.currentTarget.value || undefined)} {...validity}>
        {fallback === null && <option value="">Default</option>}
        {values.map((candidate) => (
          <option key={candidate} value={candidate}>
            {candidate === fallback ? `${valueLabel(option, candidate)} (default)` : valueLabel(option, candidate)}
          </option>
        ))}
      </select>
    </label>
  );
}
