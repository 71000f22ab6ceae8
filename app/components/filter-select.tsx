import { Link } from "@remix-run/react";
// One "Any or one of these" select of a list page's GET filter form.
export function FilterSelect({ id, label, name, value, options }: { id: string; label: string; name: string; value: string | undefined; options: { value: string; label: string }[] }) {
  return (
    <div className="field">
      <label className="field-label" htmlFor={id}>
        {label}
      </label>
      <select id={id} className="input input-compact audit-filter-input" name={name} defaultValue={value ?? ""}>
        <option value="">Any</option>
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </div>
  );
}

/** The Filter button of a list page's GET filter form, and Clear (back to `clearTo`) while any filter is set. */
export function FilterActions({ clearTo, filtered }: { clearTo: string; filtered: boolean }) {
  return (
    <div className="form-actions audit-filter-actions">
      <button type="submit" className="button button-small button-primary">
        Filter
      </button>
      {filtered ? (
        <Link to={clearTo} className="button button-small">
          Clear
        </Link>
      ) : null}
    </div>
  );
}
