// The UI's icons: inline SVG in the text's colour. An emoji would depend on the system's fonts
// (Debian's Chromium without an emoji font draws 📁 as an empty box).

import type { ReactNode } from "react";

interface IconProps {
  className?: string;
}

function Svg({ className, children }: IconProps & { children: ReactNode }) {
  return (
    <svg
      className={`icon${className ? ` ${className}` : ""}`}
      viewBox="0 0 16 16"
      width="16"
      height="16"
      fill="none"
      stroke="currentColor"
      strokeWidth="1.4"
      strokeLinejoin="round"
      aria-hidden="true"
      focusable="false"
    >
      {children}
    </svg>
  );
}

export function FolderIcon(props: IconProps) {
  return (
    <Svg {...props}>
      <path d="M1.75 3.75h4.1l1.5 1.6h6.9v7.9H1.75z" />
    </Svg>
  );
}

export function FileIcon(props: IconProps) {
  return (
    <Svg {...props}>
      <path d="M3.25 1.75h6l3.5 3.5v9h-9.5z" />
      <path d="M9.25 1.75v3.5h3.5" />
    </Svg>
  );
}
