import { Link } from "react-router";
import { useDocumentTitle } from "../lib/useDocumentTitle";

export function NotFoundPage() {
  useDocumentTitle("Not found");
  return (
    <>
      <h1>Nothing here</h1>
      <p>
        This address is not a page of VTM. <Link to="/">Back to the live runs</Link>.
      </p>
    </>
  );
}
